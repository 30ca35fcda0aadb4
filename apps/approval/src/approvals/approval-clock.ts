/** Time is injected: specs pin it, replay never depends on the wall clock. */
export type ApprovalClock = () => Date;
export const APPROVAL_CLOCK = Symbol('APPROVAL_CLOCK');
export const systemClock: ApprovalClock = () => new Date();
