import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, CurrentPrincipal, PROBLEMS, ProblemDetailsFilter, ProblemException, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { Principal, ProblemType } from '@grantline/http-edge';
import { statusOf } from '../domain/approval.state';
import type { ApprovalTask, RequestStatus } from '../domain/approval.state';
import type { DecideResult, Rejection } from '../domain/approval.decide';
import type { DirectoryGap } from '../domain/route-prerequisites';
import { APPROVAL_CLOCK } from './approval-clock';
import type { ApprovalClock } from './approval-clock';
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

/** A rejection's problem type; its slug is the rejection itself. */
const REJECTION_PROBLEM: Record<Rejection, ProblemType> = {
  unknown_task: { slug: 'unknown_task', status: 404, title: 'Unknown approval task' },
  self_approval: { slug: 'self_approval', status: 403, title: 'Self-approval is not allowed' },
  not_eligible: { slug: 'not_eligible', status: 403, title: 'Not an eligible approver' },
  request_ended: { slug: 'request_ended', status: 409, title: 'The request has already ended' },
  request_withdrawn: { slug: 'request_withdrawn', status: 409, title: 'The request was withdrawn' },
  task_closed: { slug: 'task_closed', status: 409, title: 'The task is closed' },
  already_decided: { slug: 'already_decided', status: 409, title: 'Already decided' },
};
const LOG_UNAVAILABLE: ProblemType = { slug: 'log_unavailable', status: 503, title: 'The event log is unavailable' };
const UNKNOWN_REQUEST: ProblemType = { slug: 'unknown_request', status: 404, title: 'Unknown request' };

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

/** The approver's HTTP edge: answer a task as the authenticated principal, list one's open tasks. */
@Controller('v1/approvals')
@UseFilters(ProblemDetailsFilter)
export class ApprovalTasksController {
  constructor(
    private readonly state: ApprovalStateService,
    @Inject(APPROVAL_CLOCK) private readonly clock: ApprovalClock,
  ) {}

  @Post('tasks/:taskId/decision')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  async decide(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<DecisionResponse> {
    const approverId = principal.subject;
    const parsed = TaskDecisionBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    await this.state.whenLoaded();
    const requestId = this.state.requestOfTask(taskId);
    if (requestId === undefined) throw ProblemException.of(REJECTION_PROBLEM.unknown_task, `no approval task ${taskId}`);
    const { decision, comment } = parsed.data;
    let result: DecideResult;
    try {
      result = await this.state.handle(requestId, undefined, {
        kind: 'decide_task',
        taskId,
        approverId,
        decision,
        ...(comment !== undefined ? { comment } : {}),
        at: this.clock().toISOString(),
      });
    } catch (error) {
      // Nothing was folded in: the caller may retry and gets the same outcome.
      throw ProblemException.of(LOG_UNAVAILABLE, `the decision was not recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!result.accepted) throw ProblemException.of(REJECTION_PROBLEM[result.rejection], result.message);
    return { taskId, requestId, decision, recorded: result.events.length > 0, requestStatus: statusOf(this.state.stateOf(requestId)) };
  }

  @Get('tasks')
  async tasks(@Query() query: unknown): Promise<{ tasks: TaskView[] }> {
    const parsed = TasksQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    await this.state.whenLoaded();
    return { tasks: this.state.openTasksFor(parsed.data.approverId).map(viewOf) };
  }

  @Get('requests/:requestId')
  async request(@Param('requestId') requestId: string): Promise<RequestView> {
    await this.state.whenLoaded();
    const state = this.state.stateOf(requestId);
    if (state.seenEventIds.size === 0) throw ProblemException.of(UNKNOWN_REQUEST, `no approval state for request ${requestId}`);
    const waitingFor = this.state.waitingFor(requestId);
    return {
      requestId,
      status: statusOf(state),
      tasks: state.tasks.map(viewOf),
      blockedAttempts: state.blockedAttempts,
      ...(waitingFor !== undefined ? { waitingForDirectory: [...waitingFor] } : {}),
    };
  }
}
