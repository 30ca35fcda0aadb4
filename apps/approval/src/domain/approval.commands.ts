import { ApprovalSelfApprovalBlocked, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';

// Every command names its request: the request id is the stream's, not part of the state (initialState() is the
// same for every request).

/** Route a request once both its submission and its policy decision are known (either may arrive first). */
export interface RouteCommand {
  readonly kind: 'route';
  readonly requestId: string;
}

/** An approver's answer on one task; `approverId` is the authenticated principal, never a body field. */
export interface DecideTaskCommand {
  readonly kind: 'decide_task';
  readonly requestId: string;
  readonly taskId: string;
  readonly approverId: string;
  readonly decision: 'approve' | 'deny';
  readonly comment?: string;
  readonly at: string;
}

/**
 * May this principal answer this task at all? The HTTP edge asks before it reads the body, so a refused caller
 * learns nothing about what a valid answer looks like. A self-approval attempt is recorded here as it is on
 * `decide_task`; the outcome is the same refusal `decide_task` would give before looking at the answer.
 */
export interface AuthorizeTaskCommand {
  readonly kind: 'authorize_task';
  readonly requestId: string;
  readonly taskId: string;
  readonly approverId: string;
  readonly at: string;
}

/** `iga.timer.fired` of kind approval_deadline for one task. */
export interface DeadlineCommand {
  readonly kind: 'deadline';
  readonly requestId: string;
  readonly taskId: string;
  readonly timerEventId: string;
  readonly firedAt: string;
}

export type ApprovalCommand = RouteCommand | DecideTaskCommand | AuthorizeTaskCommand | DeadlineCommand;

export type Rejection = 'unknown_task' | 'self_approval' | 'not_eligible' | 'request_ended' | 'request_withdrawn' | 'task_closed' | 'already_decided';

/**
 * An answer the rules refuse. decide throws it when the refusal records nothing, so the decider keeps its one
 * shape (events or nothing); the HTTP edge maps `rejection` to its problem (403/404/409).
 */
export class ApprovalRefused extends Error {
  constructor(
    readonly rejection: Rejection,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalRefused';
  }
}

/**
 * A blocked self-approval is evidence as well as a refusal: decide returns it as an event (so it is published
 * and folded like any other), and whoever asked is refused all the same. This is that refusal, when the decided
 * events hold one.
 */
export const refusalIn = (events: readonly Envelope[]): ApprovalRefused | undefined => {
  for (const event of events) {
    if (!isEvent(event, ApprovalSelfApprovalBlocked)) continue;
    const { attemptedById, requestId, relation } = event.data;
    return new ApprovalRefused('self_approval', `${attemptedById} may not decide request ${requestId}: they are its ${relation.replace('_', ' ')}`);
  }
  return undefined;
};
