/** Where the service reads wall-clock time (simulation's default `now`, the bundle announcement); tests pass a fixed one. */
export const POLICY_CLOCK = Symbol('POLICY_CLOCK');
export type PolicyClock = () => Date;
export const systemClock: PolicyClock = () => new Date();
