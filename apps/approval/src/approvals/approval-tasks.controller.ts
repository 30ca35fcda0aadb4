import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Command } from '@nestjs/cqrs';
import {
  BearerAuthGuard,
  CurrentPrincipal,
  PROBLEMS,
  ProblemException,
  ProblemResponses,
  RequireRoles,
  ZodBody,
  ZodQuery,
  ZodResponse,
  concealed,
  fieldErrorsOf,
  forbidden,
  invalidInput,
} from '@grantline/http-edge';
import type { Principal, ProblemType, ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { statusOf } from '../domain/approval.state';
import type { ApprovalTask } from '../domain/approval.state';
import { ApprovalRefused } from '../domain/approval.commands';
import type { Rejection } from '../domain/approval.commands';
import { AuthorizeAnswer, DecideTask } from './approval-commands';
import { ApprovalAccess, unknownTaskDetail } from './approval-access.service';
import { ApprovalStateService } from './approval-state.service';
import { DirectoryWaitService } from './directory-wait.service';
import { DecisionResponseSchema, RequestViewSchema, TaskDecisionBodySchema, TaskListSchema, TaskViewSchema, TasksQuerySchema } from './approval-tasks.schema';
import { taskScopeOf } from '../domain/inbox.view';
import type { TaskScope } from '../domain/inbox.view';

export type TaskView = ViewOf<typeof TaskViewSchema>;
export type TaskList = ViewOf<typeof TaskListSchema>;
export type RequestView = ViewOf<typeof RequestViewSchema>;
export type DecisionResponse = ViewOf<typeof DecisionResponseSchema>;

/** A rejection's problem type; its slug is the rejection itself. `not_eligible` is answered as a recorded refusal. */
const REJECTION_PROBLEM: Record<Exclude<Rejection, 'not_eligible' | 'unknown_task'>, ProblemType> = {
  self_approval: { slug: 'self_approval', status: 403, title: 'Self-approval is not allowed' },
  request_ended: { slug: 'request_ended', status: 409, title: 'The request has already ended' },
  request_withdrawn: { slug: 'request_withdrawn', status: 409, title: 'The request was withdrawn' },
  task_closed: { slug: 'task_closed', status: 409, title: 'The task is closed' },
  already_decided: { slug: 'already_decided', status: 409, title: 'Already decided' },
};
const LOG_UNAVAILABLE: ProblemType = { slug: 'log_unavailable', status: 503, title: 'The event log is unavailable' };

const problemOf = ({ rejection, message }: ApprovalRefused, principal: Principal, taskId: string): Error => {
  switch (rejection) {
    case 'not_eligible':
      return forbidden(principal, message, `task:${taskId}`);
    case 'unknown_task':
      // Known a moment ago (the task index only grows): answered as any unknown task is.
      return concealed(principal, `task:${taskId}`, unknownTaskDetail(taskId), 'unknown task');
    case 'self_approval':
    case 'request_ended':
    case 'request_withdrawn':
    case 'task_closed':
    case 'already_decided':
      return ProblemException.of(REJECTION_PROBLEM[rejection], message);
  }
};

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
    private readonly directoryWait: DirectoryWaitService,
    private readonly commands: CommandBus,
  ) {}

  /**
   * Only an eligible approver answers: whoever may not see the request is told the task does not exist (404);
   * whoever may see it but is not eligible gets a recorded 403, the requester or beneficiary a 403 recorded as a
   * blocked self-approval. Both before the body is read.
   */
  @Post('tasks/:taskId/decision')
  @HttpCode(200)
  @ZodBody(TaskDecisionBodySchema)
  @ZodResponse(200, DecisionResponseSchema, 'The answer as recorded, and the status of the request after it')
  @ProblemResponses(
    400,
    401,
    [403, 'Not an eligible approver, or a blocked self-approval (recorded)'],
    404,
    [409, 'The request ended, was withdrawn, or the task is closed or already decided'],
    503,
  )
  async decide(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<DecisionResponse> {
    const approverId = principal.subject;
    const requestId = await this.access.requestOfVisibleTask(principal, taskId);
    await this.execute(principal, taskId, new AuthorizeAnswer(requestId, taskId, approverId));
    const parsed = TaskDecisionBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { decision, comment } = parsed.data;
    const { recorded, requestStatus } = await this.execute(principal, taskId, new DecideTask(requestId, taskId, approverId, decision, comment));
    return { taskId, requestId, decision, recorded, requestStatus };
  }

  /** Any person lists the open tasks they may decide; `approverId`, if given, must be themselves. */
  @Get('tasks')
  @RequireRoles('member')
  @ZodQuery(TasksQuerySchema)
  @ZodResponse(200, TaskListSchema, "The caller's open tasks, each with the exact scope it asks to approve")
  @ProblemResponses(400, 401, [403, 'approverId names someone other than the caller (recorded)'], 503)
  async tasks(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<TaskList> {
    const named = approverIdOf(query);
    if (named !== undefined && named !== principal.subject) {
      throw forbidden(
        principal,
        'A member lists their own tasks: approverId may only name the caller',
        typeof named === 'string' ? `identity:${named}` : undefined,
      );
    }
    const parsed = TasksQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    await this.state.whenLoaded();
    return { tasks: this.state.openTasksFor(principal.subject).map((task) => this.withScope(viewOf(task))) };
  }

  @Get('requests/:requestId')
  @ZodResponse(200, RequestViewSchema, "The request's approval state: its tasks, what it waits for and what it asks to approve")
  @ProblemResponses(401, 404, 503)
  async request(@Param('requestId') requestId: string, @CurrentPrincipal() principal: Principal): Promise<RequestView> {
    const state = await this.access.visibleRequest(principal, requestId);
    const waitingFor = this.directoryWait.waitingFor(requestId);
    return {
      requestId,
      status: statusOf(state),
      tasks: state.tasks.map(viewOf),
      blockedAttempts: state.blockedAttempts,
      ...(waitingFor !== undefined ? { waitingForDirectory: [...waitingFor] } : {}),
      ...this.scopeOf(requestId),
    };
  }

  private scopeOf(requestId: string): { scope?: TaskScope } {
    const scope = taskScopeOf(requestId, this.state.stateOf(requestId), this.state.inbox, this.state.directory, (other) => this.state.stateOf(other));
    return scope ? { scope } : {};
  }

  private withScope(view: TaskView): TaskView {
    return { ...view, ...this.scopeOf(view.requestId) };
  }

  /** Dispatches one command on the request; a refusal becomes its problem (not_eligible a recorded 403). */
  private async execute<TResult>(principal: Principal, taskId: string, command: Command<TResult>): Promise<TResult> {
    try {
      return await this.commands.execute(command);
    } catch (error) {
      if (error instanceof ApprovalRefused) throw problemOf(error, principal, taskId);
      // Nothing was folded in: the caller may retry and gets the same outcome.
      throw ProblemException.of(LOG_UNAVAILABLE, `the decision was not recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
