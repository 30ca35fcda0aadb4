import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, CurrentPrincipal, PROBLEMS, ProblemException, RequireRoles, concealed, fieldErrorsOf, forbidden, invalidInput } from '@grantline/http-edge';
import type { Principal, ProblemType } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { statusOf } from '../domain/approval.state';
import type { ApprovalTask, RequestStatus } from '../domain/approval.state';
import type { ApprovalCommand, DecideResult, Rejection } from '../domain/approval.decide';
import type { DirectoryGap } from '../domain/route-prerequisites';
import { APPROVAL_CLOCK } from './approval-clock';
import type { ApprovalClock } from './approval-clock';
import { ApprovalAccess, unknownTaskDetail } from './approval-access.service';
import { ApprovalStateService } from './approval-state.service';
import { TaskDecisionBodySchema, TasksQuerySchema } from './approval-tasks.schema';

export interface TaskView {
  readonly taskId: string;
  readonly requestId: string;
  readonly stageId: string;
  readonly status: ApprovalTask['status'];
  readonly quorum: number;
  readonly approvals: number;
  readonly eligibleApproverIds: readonly string[];
  readonly dueAt: string;
  readonly escalatedFromTaskId?: string;
}

export interface RequestView {
  readonly requestId: string;
  readonly status: RequestStatus;
  readonly tasks: TaskView[];
  readonly blockedAttempts: number;
  /** Present while the route waits for identities or catalogue entries the directory does not hold yet. */
  readonly waitingForDirectory?: DirectoryGap[];
}

export interface DecisionResponse {
  readonly taskId: string;
  readonly requestId: string;
  readonly decision: 'approve' | 'deny';
  /** False when the same answer had already been recorded (a retried call). */
  readonly recorded: boolean;
  readonly requestStatus: RequestStatus;
}

/** A rejection's problem type; its slug is the rejection itself. `not_eligible` is answered as a recorded refusal. */
const REJECTION_PROBLEM: Record<Exclude<Rejection, 'not_eligible' | 'unknown_task'>, ProblemType> = {
  self_approval: { slug: 'self_approval', status: 403, title: 'Self-approval is not allowed' },
  request_ended: { slug: 'request_ended', status: 409, title: 'The request has already ended' },
  request_withdrawn: { slug: 'request_withdrawn', status: 409, title: 'The request was withdrawn' },
  task_closed: { slug: 'task_closed', status: 409, title: 'The task is closed' },
  already_decided: { slug: 'already_decided', status: 409, title: 'Already decided' },
};
const LOG_UNAVAILABLE: ProblemType = { slug: 'log_unavailable', status: 503, title: 'The event log is unavailable' };

const viewOf = (task: ApprovalTask): TaskView => ({
  taskId: task.taskId,
  requestId: task.requestId,
  stageId: task.stageId,
  status: task.status,
  quorum: task.quorum,
  approvals: task.decisions.filter((d) => d.decision === 'approve').length,
  eligibleApproverIds: task.eligibleApproverIds,
  dueAt: task.dueAt,
  ...(task.escalatedFromTaskId !== undefined ? { escalatedFromTaskId: task.escalatedFromTaskId } : {}),
});

const approverIdOf = (query: unknown): unknown => (query !== null && typeof query === 'object' ? (query as Record<string, unknown>)['approverId'] : undefined);

/**
 * The approver's HTTP edge: answer a task as the authenticated principal, list one's own open tasks, read a request's
 * approval state. Every route authenticates (BearerAuthGuard) and authorizes before it reads the body or the query.
 * Until the approval state is rebuilt every route answers 503 (`state-not-loaded`): an empty state would call a
 * known request unknown, list no tasks, or decide on a request it has not seen.
 */
@Controller('v1/approvals')
@UseGuards(BearerAuthGuard, RequireLoaded(ApprovalStateService))
export class ApprovalTasksController {
  constructor(
    private readonly state: ApprovalStateService,
    private readonly access: ApprovalAccess,
    @Inject(APPROVAL_CLOCK) private readonly clock: ApprovalClock,
  ) {}

  /**
   * Only an eligible approver answers: whoever may not see the request is told the task does not exist (404);
   * whoever may see it but is not eligible gets a recorded 403, the requester or beneficiary a 403 recorded as a
   * blocked self-approval. Both before the body is read.
   */
  @Post('tasks/:taskId/decision')
  @HttpCode(200)
  async decide(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<DecisionResponse> {
    const approverId = principal.subject;
    const requestId = await this.access.requestOfVisibleTask(principal, taskId);
    await this.run(principal, requestId, taskId, { kind: 'authorize_task', taskId, approverId, at: this.clock().toISOString() });
    const parsed = TaskDecisionBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { decision, comment } = parsed.data;
    const result = await this.run(principal, requestId, taskId, {
      kind: 'decide_task',
      taskId,
      approverId,
      decision,
      ...(comment !== undefined ? { comment } : {}),
      at: this.clock().toISOString(),
    });
    return { taskId, requestId, decision, recorded: result.events.length > 0, requestStatus: statusOf(this.state.stateOf(requestId)) };
  }

  /** Any person lists the open tasks they may decide; `approverId`, if given, must be themselves. */
  @Get('tasks')
  @RequireRoles('member')
  async tasks(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<{ tasks: TaskView[] }> {
    const named = approverIdOf(query);
    if (named !== undefined && named !== principal.subject) {
      throw forbidden(principal, 'A member lists their own tasks: approverId may only name the caller', typeof named === 'string' ? `identity:${named}` : undefined);
    }
    const parsed = TasksQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    await this.state.whenLoaded();
    return { tasks: this.state.openTasksFor(principal.subject).map(viewOf) };
  }

  @Get('requests/:requestId')
  async request(@Param('requestId') requestId: string, @CurrentPrincipal() principal: Principal): Promise<RequestView> {
    const state = await this.access.visibleRequest(principal, requestId);
    const waitingFor = this.state.waitingFor(requestId);
    return {
      requestId,
      status: statusOf(state),
      tasks: state.tasks.map(viewOf),
      blockedAttempts: state.blockedAttempts,
      ...(waitingFor !== undefined ? { waitingForDirectory: [...waitingFor] } : {}),
    };
  }

  /** Runs one command under the request's lock; a rejection becomes its problem (not_eligible a recorded 403). */
  private async run(principal: Principal, requestId: string, taskId: string, command: ApprovalCommand): Promise<DecideResult> {
    let result: DecideResult;
    try {
      result = await this.state.handle(requestId, undefined, command);
    } catch (error) {
      // Nothing was folded in: the caller may retry and gets the same outcome.
      throw ProblemException.of(LOG_UNAVAILABLE, `the decision was not recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (result.accepted) return result;
    switch (result.rejection) {
      case 'not_eligible':
        throw forbidden(principal, result.message, `task:${taskId}`);
      case 'unknown_task':
        // Known a moment ago (the task index only grows): answered as any unknown task is.
        throw concealed(principal, `task:${taskId}`, unknownTaskDetail(taskId), 'unknown task');
      case 'self_approval':
      case 'request_ended':
      case 'request_withdrawn':
      case 'task_closed':
      case 'already_decided':
        throw ProblemException.of(REJECTION_PROBLEM[result.rejection], result.message);
    }
  }
}
