import { Inject, Logger } from '@nestjs/common';
import { CommandBus, CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import type { Envelope } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { CLOCK } from '@grantline/service-kit';
import { refusalIn } from '../domain/approval.commands';
import type { ApprovalCommand } from '../domain/approval.commands';
import { statusOf } from '../domain/approval.state';
import { awaitsRoute, missingForRoute } from '../domain/route-prerequisites';
import { ApplyDirectoryFact, AuthorizeAnswer, DecideTask, ExpireTask, RecordWithdrawal, ResumeRoutes, RouteRequest } from './approval-commands';
import type { TaskAnswer } from './approval-commands';
import { ApprovalStateService } from './approval-state.service';
import { DirectoryWaitService } from './directory-wait.service';

/**
 * The runtime's one step, under the request's lock: decide on the request's current state, publish, fold. A blocked
 * self-approval is published like any other fact and refused all the same.
 */
const decideOn = async (approvals: ApprovalStateService, command: ApprovalCommand): Promise<readonly Envelope[]> => {
  const events = approvals.decider().decide(command, approvals.stateOf(command.requestId));
  await approvals.commit(command.requestId, events);
  const refused = refusalIn(events);
  if (refused) throw refused;
  return events;
};

@CommandHandler(RouteRequest)
export class RouteRequestHandler implements ICommandHandler<RouteRequest> {
  constructor(
    private readonly approvals: ApprovalStateService,
    private readonly directoryWait: DirectoryWaitService,
  ) {}

  execute({ requestId, fact, waitForDirectory }: RouteRequest): Promise<void> {
    return this.approvals.exclusive(requestId, async () => {
      if (fact) this.approvals.fold(requestId, fact);
      const state = this.approvals.stateOf(requestId);
      // Not yet complete, already routed, ended or withdrawn: nothing to route, nothing to wait for.
      if (!awaitsRoute(state)) return this.directoryWait.release(requestId);
      const gaps = missingForRoute(state, this.approvals.directory);
      if (waitForDirectory && gaps.length > 0 && this.directoryWait.enabled) return this.directoryWait.park(requestId, gaps);
      await decideOn(this.approvals, { kind: 'route', requestId });
      this.directoryWait.release(requestId, waitForDirectory ? [] : gaps);
    });
  }
}

@CommandHandler(RecordWithdrawal)
export class RecordWithdrawalHandler implements ICommandHandler<RecordWithdrawal> {
  constructor(
    private readonly approvals: ApprovalStateService,
    private readonly directoryWait: DirectoryWaitService,
  ) {}

  execute({ requestId, fact }: RecordWithdrawal): Promise<void> {
    return this.approvals.exclusive(requestId, async () => {
      this.approvals.fold(requestId, fact);
      // A withdrawn request has nothing left to route.
      this.directoryWait.release(requestId);
    });
  }
}

@CommandHandler(AuthorizeAnswer)
export class AuthorizeAnswerHandler implements ICommandHandler<AuthorizeAnswer> {
  constructor(
    private readonly approvals: ApprovalStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ requestId, taskId, approverId }: AuthorizeAnswer): Promise<void> {
    const at = this.clock.now().toISOString();
    await this.approvals.exclusive(requestId, () => decideOn(this.approvals, { kind: 'authorize_task', requestId, taskId, approverId, at }));
  }
}

@CommandHandler(DecideTask)
export class DecideTaskHandler implements ICommandHandler<DecideTask> {
  constructor(
    private readonly approvals: ApprovalStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute({ requestId, taskId, approverId, decision, comment }: DecideTask): Promise<TaskAnswer> {
    const at = this.clock.now().toISOString();
    return this.approvals.exclusive(requestId, async () => {
      const events = await decideOn(this.approvals, {
        kind: 'decide_task',
        requestId,
        taskId,
        approverId,
        decision,
        ...(comment !== undefined ? { comment } : {}),
        at,
      });
      return { recorded: events.length > 0, requestStatus: statusOf(this.approvals.stateOf(requestId)) };
    });
  }
}

@CommandHandler(ExpireTask)
export class ExpireTaskHandler implements ICommandHandler<ExpireTask> {
  constructor(private readonly approvals: ApprovalStateService) {}

  async execute({ taskId, timerEventId, firedAt, requestId: named }: ExpireTask): Promise<void> {
    const requestId = named ?? this.approvals.requestOfTask(taskId);
    if (requestId === undefined) return;
    await this.approvals.exclusive(requestId, () => decideOn(this.approvals, { kind: 'deadline', requestId, taskId, timerEventId, firedAt }));
  }
}

@CommandHandler(ApplyDirectoryFact)
export class ApplyDirectoryFactHandler implements ICommandHandler<ApplyDirectoryFact> {
  constructor(
    private readonly approvals: ApprovalStateService,
    private readonly directoryWait: DirectoryWaitService,
    private readonly commands: CommandBus,
  ) {}

  /**
   * Resolves once the routes it completed are published, so the fact's offset is committed after them (a failed
   * publish redelivers it, and it routes them again).
   */
  async execute({ fact, position }: ApplyDirectoryFact): Promise<void> {
    if (position) this.approvals.applyLive(fact, position);
    else this.approvals.applyDirectory(fact);
    const completed = this.directoryWait.completedBy(this.approvals.directory);
    await Promise.all(completed.map((requestId) => this.commands.execute(new RouteRequest(requestId))));
  }
}

@CommandHandler(ResumeRoutes)
export class ResumeRoutesHandler implements ICommandHandler<ResumeRoutes> {
  private readonly logger = new Logger('approval');

  constructor(
    private readonly approvals: ApprovalStateService,
    private readonly directoryWait: DirectoryWaitService,
    private readonly commands: CommandBus,
  ) {}

  /** Route's deterministic event ids make a repeat of what the previous instance published harmless. */
  async execute(): Promise<void> {
    const unrouted = this.approvals.unrouted();
    for (const requestId of unrouted) {
      await this.commands.execute(new RouteRequest(requestId)).catch((error: unknown) => {
        this.logger.warn({ msg: 'resuming a route after the replay failed; retrying after the directory wait', requestId, error: String(error) });
        this.directoryWait.retryLater(requestId, missingForRoute(this.approvals.stateOf(requestId), this.approvals.directory));
      });
    }
    if (unrouted.length > 0) this.logger.log({ msg: 'resumed routes after the replay', requests: unrouted.length, waiting: this.directoryWait.waitingCount });
  }
}

export const APPROVAL_COMMAND_HANDLERS = [
  RouteRequestHandler,
  RecordWithdrawalHandler,
  AuthorizeAnswerHandler,
  DecideTaskHandler,
  ExpireTaskHandler,
  ApplyDirectoryFactHandler,
  ResumeRoutesHandler,
];
