import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  grantIdOf,
  isoDurationToMillis,
} from '@grantline/contracts';
import type { Actor, ApprovalStage, EnvelopeMeta, Envelope, EventDefinition, EventRegistry, RequestDeniedData } from '@grantline/contracts';
import { statusOf, taskOf } from './approval.state';
import type { ApprovalTask, RecordedDecision, RequestApprovalState, SubmittedRequest } from './approval.state';
import type { ApprovalPolicy } from './approval.policy';
import { eligibleSecurityMembers, isOwnerOfRecordStage, nhiOwnerOf, requestedEntitlementIds, resolveStage, selfRelationOf } from './approver-resolution';
import { isActive } from './directory';
import type { Directory } from './directory';

export const APPROVAL_SOURCE = 'grantline/approval';
export const APPROVAL_ACTOR: Actor = { kind: 'service', id: 'approval' };

export interface DecideContext {
  readonly directory: Directory;
  readonly policy: ApprovalPolicy;
  readonly registry: EventRegistry;
  /** Derives an event id from what caused it (deterministicEventId), so a repeated command yields the same id. */
  readonly eventId: (...parts: string[]) => string;
}

/** Route a request once both its submission and its policy decision are known (either may arrive first). */
export interface RouteCommand {
  readonly kind: 'route';
}

/** An approver's answer on one task; `approverId` is the authenticated principal, never a body field. */
export interface DecideTaskCommand {
  readonly kind: 'decide_task';
  readonly taskId: string;
  readonly approverId: string;
  readonly decision: 'approve' | 'deny';
  readonly comment?: string;
  readonly at: string;
}

/**
 * May this principal answer this task at all? The HTTP edge asks before it reads the body, so a refused caller
 * learns nothing about what a valid answer looks like. A self-approval attempt is recorded here as it is on
 * `decide_task`; the outcome is the same rejection `decide_task` would give before looking at the answer.
 */
export interface AuthorizeTaskCommand {
  readonly kind: 'authorize_task';
  readonly taskId: string;
  readonly approverId: string;
  readonly at: string;
}

/** `iga.timer.fired` of kind approval_deadline for one task. */
export interface DeadlineCommand {
  readonly kind: 'deadline';
  readonly taskId: string;
  readonly timerEventId: string;
  readonly firedAt: string;
}

export type ApprovalCommand = RouteCommand | DecideTaskCommand | AuthorizeTaskCommand | DeadlineCommand;

export type Rejection =
  | 'unknown_task'
  | 'self_approval'
  | 'not_eligible'
  | 'request_ended'
  | 'request_withdrawn'
  | 'task_closed'
  | 'already_decided';

export type DecideResult =
  | { readonly accepted: true; readonly events: readonly Envelope[] }
  /** A rejection may still record events: a blocked self-approval is evidence, not just a refusal. */
  | { readonly accepted: false; readonly rejection: Rejection; readonly message: string; readonly events: readonly Envelope[] };

const accepted = (events: readonly Envelope[]): DecideResult => ({ accepted: true, events });
const rejected = (rejection: Rejection, message: string, events: readonly Envelope[] = []): DecideResult => ({
  accepted: false,
  rejection,
  message,
  events,
});

export const taskIdOf = (requestId: string, stageId: string): string => `${requestId}:${stageId}`;
export const escalatedTaskIdOf = (taskId: string): string => `${taskId}:escalated`;
export const reviewIdOf = (requestId: string): string => `${requestId}:post-incident-review`;

const plus = (iso: string, duration: string): string => new Date(Date.parse(iso) + (isoDurationToMillis(duration) ?? 0)).toISOString();

/** Builds envelopes for one request; every event about a request is keyed and correlated by its id. */
class Emitter {
  readonly events: Envelope[] = [];

  constructor(
    private readonly context: DecideContext,
    private readonly requestId: string,
    private readonly time: string,
    private readonly causationId: string | undefined,
    private readonly actor: Actor = APPROVAL_ACTOR,
  ) {}

  emit<TData>(def: EventDefinition<string, TData>, data: TData, idParts: readonly string[], actor?: Actor): this {
    const meta: EnvelopeMeta = {
      id: this.context.eventId(def.type, ...idParts),
      source: APPROVAL_SOURCE,
      time: this.time,
      subject: this.requestId,
      correlationid: this.requestId,
      ...(this.causationId !== undefined ? { causationid: this.causationId } : {}),
      actor: actor ?? this.actor,
    };
    this.events.push(this.context.registry.encode(def, data, meta));
    return this;
  }
}

interface GrantPlan {
  readonly grants: { grantId: string; entitlementId: string; expiresAt: string }[];
  readonly problem?: string;
}

/**
 * Every grant ends at the earliest of: what was requested, the policy's maxDuration, the entitlement's own
 * maxDuration and (for break-glass) the hard break-glass maximum; all counted from `at`.
 */
const planGrants = (requestId: string, request: SubmittedRequest, decision: RecordedDecision, directory: Directory, at: string, hardMax?: string): GrantPlan => {
  const entitlementIds = requestedEntitlementIds(request, directory);
  if (entitlementIds.length === 0) return { grants: [], problem: 'the requested access package is not in the published catalogue' };
  const requestedMs = request.duration !== undefined ? isoDurationToMillis(request.duration) : request.endsAt !== undefined ? Date.parse(request.endsAt) - Date.parse(at) : undefined;
  if (requestedMs === undefined || requestedMs <= 0) return { grants: [], problem: 'the requested access ends before it could be granted' };
  const limits = [requestedMs, isoDurationToMillis(decision.data.constraints.maxDuration), hardMax !== undefined ? isoDurationToMillis(hardMax) : undefined];
  const grants = entitlementIds.slice(0, 50).map((entitlementId) => {
    const entitlementMax = directory.entitlements.get(entitlementId)?.maxDuration;
    const ms = Math.min(...[...limits, entitlementMax !== undefined ? isoDurationToMillis(entitlementMax) : undefined].filter((v): v is number => v !== undefined));
    return { grantId: grantIdOf(requestId, entitlementId), entitlementId, expiresAt: new Date(Date.parse(at) + ms).toISOString() };
  });
  return { grants };
};

const deny = (out: Emitter, requestId: string, basis: RequestDeniedData['basis'], reasons: readonly string[], extra: Partial<RequestDeniedData> = {}): Emitter =>
  out.emit(ApprovalRequestDenied, { requestId, basis, reasons: [...reasons], ...extra }, [requestId]);

/** Opens the task of a stage, or denies the request when nobody may approve it. */
const openStage = (
  out: Emitter,
  state: RequestApprovalState,
  request: SubmittedRequest,
  decision: RecordedDecision,
  stage: ApprovalStage,
  at: string,
  context: DecideContext,
): void => {
  const resolved = resolveStage(stage, request, context.directory, context.policy);
  if (!resolved) {
    deny(out, state.requestId, 'sod_conflict', [`stage "${stage.id}" needs ${stage.quorum} distinct eligible approver(s) and there are not enough`], {
      decisionId: decision.data.decisionId,
    });
    return;
  }
  const taskId = taskIdOf(state.requestId, stage.id);
  out.emit(
    ApprovalTaskOpened,
    {
      taskId,
      requestId: state.requestId,
      stageId: stage.id,
      eligibleApproverIds: [...resolved.eligibleApproverIds],
      quorum: resolved.quorum,
      dueAt: plus(at, stage.timeout ?? context.policy.defaultTaskTimeout),
    },
    [taskId],
  );
};

const route = (state: RequestApprovalState, context: DecideContext): DecideResult => {
  const { request, decision } = state;
  if (!request || !decision || statusOf(state) !== 'pending' || state.tasks.length > 0) return accepted([]);
  // The decision always follows the request, so its time is when routing happens, whichever arrived first here.
  const at = decision.time;
  const out = new Emitter(context, state.requestId, at, decision.eventId);
  const { data } = decision;
  const decisionId = data.decisionId;

  if (data.effect === 'deny') {
    return accepted(deny(out, state.requestId, data.sodConflicts.length > 0 ? 'sod_conflict' : 'policy', data.reasons, { decisionId }).events);
  }

  if (request.incidentRef && data.constraints.breakGlassAllowed) {
    const plan = planGrants(state.requestId, request, decision, context.directory, at, context.policy.breakGlassMaxDuration);
    if (plan.problem !== undefined) return accepted(deny(out, state.requestId, 'policy', [plan.problem], { decisionId }).events);
    const reviewId = reviewIdOf(state.requestId);
    const reviewDueAt = plus(at, context.policy.breakGlassReviewWithin);
    const reviewerIds = breakGlassReviewers(request, context);
    out
      .emit(ApprovalBreakGlassGranted, { requestId: state.requestId, beneficiaryId: request.subject.id, incidentRef: request.incidentRef, grants: plan.grants, reviewDueAt, decisionId }, [state.requestId])
      .emit(
        ApprovalReviewOpened,
        { reviewId, kind: 'break_glass_post_incident', requestId: state.requestId, grantIds: plan.grants.map((grant) => grant.grantId), reviewerIds, dueAt: reviewDueAt },
        [reviewId],
      );
    // The notifier derives the break-glass notification from these two facts (it alone writes the notifications topic).
    return accepted(out.events);
  }

  if (data.effect === 'auto_approve') {
    const plan = planGrants(state.requestId, request, decision, context.directory, at);
    if (plan.problem !== undefined) return accepted(deny(out, state.requestId, 'policy', [plan.problem], { decisionId }).events);
    out.emit(
      ApprovalRequestApproved,
      {
        requestId: state.requestId,
        beneficiaryId: request.subject.id,
        grants: plan.grants,
        basis: { kind: 'auto_approved', decisionId, approvals: [] },
        ...(data.constraints.recertificationEvery !== undefined ? { recertificationEvery: data.constraints.recertificationEvery } : {}),
      },
      [state.requestId],
    );
    return accepted(out.events);
  }

  const first = data.route?.stages[0];
  if (!first) return accepted(deny(out, state.requestId, 'policy', ['the decision requires approval but names no stage'], { decisionId }).events);
  openStage(out, state, request, decision, first, at, context);
  return accepted(out.events);
};

/** A named reviewer: the beneficiary's manager (or the NHI's owner), else the eligible security members. */
const breakGlassReviewers = (request: SubmittedRequest, context: DecideContext): string[] => {
  const beneficiary = context.directory.identities.get(request.subject.id);
  const named = beneficiary?.kind === 'human' ? beneficiary.managerId : nhiOwnerOf(request, context.directory);
  if (named !== undefined && named !== request.requesterId && named !== request.subject.id) return [named];
  const security = eligibleSecurityMembers(request, context.directory, context.policy);
  // With nobody known yet, the review goes to the security group itself rather than to no one.
  return security.length > 0 ? security.slice(0, 20) : [context.policy.securityGroup];
};

const stageOf = (decision: RecordedDecision, stageId: string): { stage: ApprovalStage; index: number } | undefined => {
  const stages = decision.data.route?.stages ?? [];
  const index = stages.findIndex((stage) => stage.id === stageId);
  const stage = stages[index];
  return stage ? { stage, index } : undefined;
};

interface OpenTask {
  readonly task: ApprovalTask;
  readonly request: SubmittedRequest;
  readonly decision: RecordedDecision;
  readonly located: { stage: ApprovalStage; index: number } | undefined;
}

/**
 * What every answer to a task is checked against first, whatever the answer: the task exists, the request is still
 * pending, and the approver is not the requester, the beneficiary or (outside an owner-of-record stage) the owner
 * of the beneficiary NHI. A self-approval attempt is evidence: it is recorded, not just refused.
 */
const openTaskFor = (state: RequestApprovalState, taskId: string, approverId: string, at: string, context: DecideContext): OpenTask | DecideResult => {
  const task = taskOf(state, taskId);
  const { request, decision } = state;
  if (!task || !request || !decision) return rejected('unknown_task', `no approval task ${taskId}`);
  const status = statusOf(state);
  if (status === 'withdrawn') return rejected('request_withdrawn', `request ${state.requestId} was withdrawn`);
  if (status !== 'pending') return rejected('request_ended', `request ${state.requestId} has already ended (${status})`);

  const located = stageOf(decision, task.stageId);
  const ownerOfRecordStage = located ? isOwnerOfRecordStage(located.stage) && task.escalatedFromTaskId === undefined : false;
  const relation = selfRelationOf(approverId, request, context.directory, ownerOfRecordStage);
  if (relation) {
    const blocked = new Emitter(context, state.requestId, at, undefined, { kind: 'user', id: approverId }).emit(
      ApprovalSelfApprovalBlocked,
      { taskId: task.taskId, requestId: state.requestId, attemptedById: approverId, relation, attemptedAt: at },
      [task.taskId, approverId, at],
    );
    return rejected('self_approval', `${approverId} may not decide request ${state.requestId}: they are its ${relation.replace('_', ' ')}`, blocked.events);
  }
  return { task, request, decision, located };
};

const isResult = (value: OpenTask | DecideResult): value is DecideResult => 'accepted' in value;

const isEligible = (task: ApprovalTask, approverId: string, directory: Directory): boolean =>
  task.eligibleApproverIds.includes(approverId) && isActive(directory, approverId);

const authorizeTask = (state: RequestApprovalState, command: AuthorizeTaskCommand, context: DecideContext): DecideResult => {
  const open = openTaskFor(state, command.taskId, command.approverId, command.at, context);
  if (isResult(open)) return open;
  // Whoever already answered was eligible then: a repeat or a change of mind is decide_task's to judge.
  if (open.task.decisions.some((d) => d.approverId === command.approverId)) return accepted([]);
  if (!isEligible(open.task, command.approverId, context.directory)) {
    return rejected('not_eligible', `${command.approverId} is not an eligible approver of task ${open.task.taskId}`);
  }
  return accepted([]);
};

const decideTask = (state: RequestApprovalState, command: DecideTaskCommand, context: DecideContext): DecideResult => {
  const open = openTaskFor(state, command.taskId, command.approverId, command.at, context);
  if (isResult(open)) return open;
  const { task, request, decision, located } = open;

  const previous = task.decisions.find((d) => d.approverId === command.approverId);
  if (previous) {
    // A retried click is the same answer, not a second vote.
    return previous.decision === command.decision
      ? accepted([])
      : rejected('already_decided', `${command.approverId} already answered ${previous.decision} on task ${task.taskId}`);
  }
  if (task.status !== 'open') return rejected('task_closed', `task ${task.taskId} is ${task.status}`);
  if (!isEligible(task, command.approverId, context.directory)) {
    return rejected('not_eligible', `${command.approverId} is not an eligible approver of task ${task.taskId}`);
  }
  // Four eyes across stages too: one person's approval cannot satisfy two stages of the same request.
  const approvedElsewhere = state.tasks.some(
    (other) => other.taskId !== task.taskId && other.decisions.some((d) => d.approverId === command.approverId && d.decision === 'approve'),
  );
  if (approvedElsewhere && command.decision === 'approve') {
    return rejected('not_eligible', `${command.approverId} already approved another stage of request ${state.requestId}`);
  }

  const out = new Emitter(context, state.requestId, command.at, undefined, { kind: 'user', id: command.approverId });
  out.emit(
    ApprovalDecisionRecorded,
    {
      taskId: task.taskId,
      requestId: state.requestId,
      stageId: task.stageId,
      approverId: command.approverId,
      decision: command.decision,
      ...(command.comment !== undefined ? { comment: command.comment } : {}),
    },
    [task.taskId, command.approverId],
  );
  const service = new Emitter(context, state.requestId, command.at, out.events[0]?.id);
  if (command.decision === 'deny') {
    deny(service, state.requestId, 'approver', [command.comment ?? `denied by ${command.approverId} at stage ${task.stageId}`], {
      decisionId: decision.data.decisionId,
      deniedBy: command.approverId,
    });
    return accepted([...out.events, ...service.events]);
  }

  const approvals = task.decisions.filter((d) => d.decision === 'approve').length + 1;
  if (approvals < task.quorum) return accepted(out.events);

  const next = located ? decision.data.route?.stages[located.index + 1] : undefined;
  if (next) {
    openStage(service, state, request, decision, next, command.at, context);
    return accepted([...out.events, ...service.events]);
  }
  const thisTask: ApprovalTask = { ...task, decisions: [...task.decisions, { approverId: command.approverId, decision: 'approve', decidedAt: command.at }] };
  // Approvals given on a task that was later escalated still counted toward its stage, so they are evidence too.
  const basis = [...state.tasks.filter((t) => t.taskId !== task.taskId), thisTask].flatMap((t) =>
    t.decisions.filter((d) => d.decision === 'approve').map((d) => ({ taskId: t.taskId, stageId: t.stageId, approverId: d.approverId, decidedAt: d.decidedAt })),
  );
  const plan = planGrants(state.requestId, request, decision, context.directory, command.at);
  if (plan.problem !== undefined) {
    deny(service, state.requestId, 'policy', [plan.problem], { decisionId: decision.data.decisionId });
    return accepted([...out.events, ...service.events]);
  }
  service.emit(
    ApprovalRequestApproved,
    {
      requestId: state.requestId,
      beneficiaryId: request.subject.id,
      grants: plan.grants,
      basis: { kind: 'approvals', decisionId: decision.data.decisionId, approvals: basis },
      ...(decision.data.constraints.recertificationEvery !== undefined ? { recertificationEvery: decision.data.constraints.recertificationEvery } : {}),
    },
    [state.requestId],
  );
  return accepted([...out.events, ...service.events]);
};

const deadline = (state: RequestApprovalState, command: DeadlineCommand, context: DecideContext): DecideResult => {
  const task = taskOf(state, command.taskId);
  const { request, decision } = state;
  // A timer for a task already answered, escalated or ended is stale: nothing to do.
  if (!task || !request || !decision || task.status !== 'open' || statusOf(state) !== 'pending') return accepted([]);
  const out = new Emitter(context, state.requestId, command.firedAt, command.timerEventId);
  const timeoutDeny = (reason: string): DecideResult =>
    accepted(deny(out, state.requestId, 'timeout', [reason], { decisionId: decision.data.decisionId }).events);

  if (context.policy.onDeadline === 'deny') return timeoutDeny(`task ${task.taskId} was not answered by ${task.dueAt}`);
  if (task.escalatedFromTaskId !== undefined) return timeoutDeny(`escalated task ${task.taskId} was not answered by ${task.dueAt}`);
  const approvers = task.decisions.map((d) => d.approverId);
  const security = eligibleSecurityMembers(request, context.directory, context.policy, approvers);
  if (security.length === 0) return timeoutDeny(`task ${task.taskId} was not answered by ${task.dueAt} and nobody in ${context.policy.securityGroup} may take it over`);

  const newTaskId = escalatedTaskIdOf(task.taskId);
  const timeout = stageOf(decision, task.stageId)?.stage.timeout ?? context.policy.defaultTaskTimeout;
  out
    .emit(ApprovalEscalated, { taskId: task.taskId, requestId: state.requestId, stageId: task.stageId, reason: 'deadline_passed', escalatedToIds: security.slice(0, 200), newTaskId }, [task.taskId])
    .emit(
      ApprovalTaskOpened,
      {
        taskId: newTaskId,
        requestId: state.requestId,
        stageId: task.stageId,
        eligibleApproverIds: security.slice(0, 200),
        // Approvals already given still count; the security group supplies the rest.
        quorum: Math.max(1, Math.min(task.quorum - task.decisions.length, security.length)),
        dueAt: plus(command.firedAt, timeout),
        escalatedFromTaskId: task.taskId,
      },
      [newTaskId],
    );
  return accepted(out.events);
};

/** The approval aggregate's decisions: pure over the command, the request's state and the injected context. */
export const decide = (command: ApprovalCommand, state: RequestApprovalState, context: DecideContext): DecideResult => {
  switch (command.kind) {
    case 'route':
      return route(state, context);
    case 'decide_task':
      return decideTask(state, command, context);
    case 'authorize_task':
      return authorizeTask(state, command, context);
    case 'deadline':
      return deadline(state, command, context);
  }
};
