import { Command } from '@nestjs/cqrs';
import type { Envelope } from '@grantline/contracts';
import type { LogPosition } from '@grantline/messaging';
import type { RequestStatus } from '../domain/approval.state';

// What the edges (HTTP, Kafka) and the directory wait ask of the approval service, dispatched on the CommandBus;
// approval-command-handlers.ts runs each on the decider. A refused answer rejects with ApprovalRefused (domain).

/**
 * Route a request: request and decision known, nothing routed yet. `fact` (the submission or the decision that may
 * complete it) is folded in first, under the request's lock. `waitForDirectory` false: the wait is over, route with
 * what the directory knows.
 */
export class RouteRequest extends Command<void> {
  constructor(
    readonly requestId: string,
    readonly fact?: Envelope,
    readonly waitForDirectory = true,
  ) {
    super();
  }
}

/** The requester withdrew: open tasks close, later answers are refused, a waiting route is dropped. */
export class RecordWithdrawal extends Command<void> {
  constructor(
    readonly requestId: string,
    readonly fact: Envelope,
  ) {
    super();
  }
}

/** May the principal answer this task at all (asked before the body is read)? A self-approval is recorded. */
export class AuthorizeAnswer extends Command<void> {
  constructor(
    readonly requestId: string,
    readonly taskId: string,
    readonly approverId: string,
  ) {
    super();
  }
}

export interface TaskAnswer {
  /** False when the same answer had already been recorded (a retried call). */
  readonly recorded: boolean;
  readonly requestStatus: RequestStatus;
}

/** An approver's answer; the time is the service clock's when it is handled. */
export class DecideTask extends Command<TaskAnswer> {
  constructor(
    readonly requestId: string,
    readonly taskId: string,
    readonly approverId: string,
    readonly decision: 'approve' | 'deny',
    readonly comment?: string,
  ) {
    super();
  }
}

/** A task's approval_deadline timer fired: escalate it, or deny the request. */
export class ExpireTask extends Command<void> {
  constructor(
    readonly taskId: string,
    readonly timerEventId: string,
    readonly firedAt: string,
    /** When the timer names it; else the task index says. */
    readonly requestId?: string,
  ) {
    super();
  }
}

/** An identity or catalogue fact: fold it into the directory, and route what was waiting for it. */
export class ApplyDirectoryFact extends Command<void> {
  /** `position`: where the live consumer read it, so a freshness catch-up and the consumer do not fold it twice. */
  constructor(
    readonly fact: Envelope,
    readonly position?: LogPosition,
  ) {
    super();
  }
}

/**
 * After the start-up replay: route the requests with a decision but no route and no outcome (their route was
 * waiting when the previous instance stopped, or it crashed before publishing), or let them wait again.
 */
export class ResumeRoutes extends Command<void> {}
