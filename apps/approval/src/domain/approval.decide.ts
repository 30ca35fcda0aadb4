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
import type { Actor, ApprovalStage, Envelope, EventDefinition, EventRegistry, RequestDeniedData } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf, Producer } from '@grantline/decider';
import { initialState, statusOf, taskOf } from './approval.state';
import type { ApprovalTask, RecordedDecision, RequestApprovalState, SubmittedRequest } from './approval.state';
import { evolve } from './approval.evolve';
import { ApprovalRefused } from './approval.commands';
import type { ApprovalCommand, AuthorizeTaskCommand, DeadlineCommand, DecideTaskCommand, RouteCommand } from './approval.commands';
import type { ApprovalPolicy } from './approval.policy';
import { eligibleSecurityMembers, isOwnerOfRecordStage, nhiOwnerOf, requestedEntitlementIds, resolveStage, selfRelationOf } from './approver-resolution';
import { isActive } from './directory';
import type { Directory } from './directory';

export const APPROVAL_SOURCE = 'grantline/approval';
export const APPROVAL_ACTOR: Actor = { kind: 'service', id: 'approval' };
const APPROVAL_PRODUCER: Producer = { source: APPROVAL_SOURCE, actor: APPROVAL_ACTOR };

/** What the approval decider is built with: nothing inside reads the world. */
export interface DecideContext {
  /** The directory as folded so far: the service builds a decider over the directory it holds at each command. */
  readonly directory: Directory;
  readonly policy: ApprovalPolicy;
  readonly registry: EventRegistry;
  /** Derives an event id from what caused it (deterministicEventId), so a repeated command yields the same id. */
  readonly eventId: EventIdOf;
}

export type ApprovalDecider = Decider<ApprovalCommand, Envelope, RequestApprovalState>;

/** Derives one event of a decision from its data and what distinguishes it among the decision's events. */
type Emit = <TType extends string, TData>(definition: EventDefinition<TType, TData>, data: TData, idParts: readonly string[]) => Envelope;

interface Deciding extends DecideContext {
  /** The events of one decision: about `requestId`, at `time`, caused by `causeId`, acted by `actor` (else the service). */
  emitter(requestId: string, time: string, causeId?: string, actor?: Actor): Emit;
}

export const taskIdOf = (requestId: string, stageId: string): string => `${requestId}:${stageId}`;
export const escalatedTaskIdOf = (taskId: string): string => `${taskId}:escalated`;
export const reviewIdOf = (requestId: string): string => `${requestId}:post-incident-review`;

const plus = (iso: string, duration: string): string => new Date(Date.parse(iso) + (isoDurationToMillis(duration) ?? 0)).toISOString();

interface GrantPlan {
  readonly grants: { grantId: string; entitlementId: string; expiresAt: string }[];
  readonly problem?: string;
}

/**
 * Every grant ends at the earliest of: what was requested, the policy's maxDuration, the entitlement's own
 * maxDuration and (for break-glass) the hard break-glass maximum; all counted from `at`.
 */
const planGrants = (
  requestId: string,
  request: SubmittedRequest,
  decision: RecordedDecision,
  directory: Directory,
  at: string,
  hardMax?: string,
): GrantPlan => {
  const entitlementIds = requestedEntitlementIds(request, directory);
  if (entitlementIds.length === 0) return { grants: [], problem: 'the requested access package is not in the published catalogue' };
  const requestedMs =
    request.duration !== undefined
      ? isoDurationToMillis(request.duration)
      : request.endsAt !== undefined
        ? Date.parse(request.endsAt) - Date.parse(at)
        : undefined;
  if (requestedMs === undefined || requestedMs <= 0) return { grants: [], problem: 'the requested access ends before it could be granted' };
  const limits = [requestedMs, isoDurationToMillis(decision.data.constraints.maxDuration), hardMax !== undefined ? isoDurationToMillis(hardMax) : undefined];
  const grants = entitlementIds.slice(0, 50).map((entitlementId) => {
    const entitlementMax = directory.entitlements.get(entitlementId)?.maxDuration;
    const ms = Math.min(
      ...[...limits, entitlementMax !== undefined ? isoDurationToMillis(entitlementMax) : undefined].filter((v): v is number => v !== undefined),
    );
    return { grantId: grantIdOf(requestId, entitlementId), entitlementId, expiresAt: new Date(Date.parse(at) + ms).toISOString() };
  });
  return { grants };
};

const deny = (emit: Emit, requestId: string, basis: RequestDeniedData['basis'], reasons: readonly string[], extra: Partial<RequestDeniedData> = {}): Envelope =>
  emit(ApprovalRequestDenied, { requestId, basis, reasons: [...reasons], ...extra }, [requestId]);

/** Opens the task of a stage, or denies the request when nobody may approve it. */
const openStage = (
  emit: Emit,
  requestId: string,
  request: SubmittedRequest,
  decision: RecordedDecision,
  stage: ApprovalStage,
  at: string,
  context: DecideContext,
): Envelope => {
  const resolved = resolveStage(stage, request, context.directory, context.policy);
  if (!resolved) {
    return deny(emit, requestId, 'sod_conflict', [`stage "${stage.id}" needs ${stage.quorum} distinct eligible approver(s) and there are not enough`], {
      decisionId: decision.data.decisionId,
    });
  }
  const taskId = taskIdOf(requestId, stage.id);
  return emit(
    ApprovalTaskOpened,
    {
      taskId,
      requestId,
      stageId: stage.id,
      eligibleApproverIds: [...resolved.eligibleApproverIds],
      quorum: resolved.quorum,
      dueAt: plus(at, stage.timeout ?? context.policy.defaultTaskTimeout),
    },
    [taskId],
  );
};

/** Why nothing may be granted to the request's beneficiary any more: they have left (offboarded). */
const beneficiaryLeft = (request: SubmittedRequest, directory: Directory): string | undefined =>
  directory.identities.get(request.subject.id)?.status === 'offboarded' ? `beneficiary ${request.subject.id} has left (offboarded)` : undefined;

const route = ({ requestId }: RouteCommand, state: RequestApprovalState, ctx: Deciding): Envelope[] => {
  const { request, decision } = state;
  if (!request || !decision || statusOf(state) !== 'pending' || state.tasks.length > 0) return [];
  // The decision always follows the request, so its time is when routing happens, whichever arrived first here.
  const at = decision.time;
  const emit = ctx.emitter(requestId, at, decision.eventId);
  const { data } = decision;
  const decisionId = data.decisionId;
  // Decided before the offboarding reached policy: nobody is asked to approve for a leaver, nothing is granted.
  const left = beneficiaryLeft(request, ctx.directory);
  if (left !== undefined) return [deny(emit, requestId, 'policy', [`${left}: nothing is granted`], { decisionId })];

  if (data.effect === 'deny') return [deny(emit, requestId, data.sodConflicts.length > 0 ? 'sod_conflict' : 'policy', data.reasons, { decisionId })];

  if (request.incidentRef && data.constraints.breakGlassAllowed) {
    const plan = planGrants(requestId, request, decision, ctx.directory, at, ctx.policy.breakGlassMaxDuration);
    if (plan.problem !== undefined) return [deny(emit, requestId, 'policy', [plan.problem], { decisionId })];
    const reviewId = reviewIdOf(requestId);
    const reviewDueAt = plus(at, ctx.policy.breakGlassReviewWithin);
    // The notifier derives the break-glass notification from these two facts (it alone writes the notifications topic).
    return [
      emit(
        ApprovalBreakGlassGranted,
        { requestId, beneficiaryId: request.subject.id, incidentRef: request.incidentRef, grants: plan.grants, reviewDueAt, decisionId },
        [requestId],
      ),
      emit(
        ApprovalReviewOpened,
        {
          reviewId,
          kind: 'break_glass_post_incident',
          requestId,
          grantIds: plan.grants.map((grant) => grant.grantId),
          reviewerIds: breakGlassReviewers(request, ctx),
          dueAt: reviewDueAt,
        },
        [reviewId],
      ),
    ];
  }

  if (data.effect === 'auto_approve') {
    const plan = planGrants(requestId, request, decision, ctx.directory, at);
    if (plan.problem !== undefined) return [deny(emit, requestId, 'policy', [plan.problem], { decisionId })];
    return [
      emit(
        ApprovalRequestApproved,
        {
          requestId,
          beneficiaryId: request.subject.id,
          grants: plan.grants,
          basis: { kind: 'auto_approved', decisionId, approvals: [] },
          ...(data.constraints.recertificationEvery !== undefined ? { recertificationEvery: data.constraints.recertificationEvery } : {}),
        },
        [requestId],
      ),
    ];
  }

  const first = data.route?.stages[0];
  if (!first) return [deny(emit, requestId, 'policy', ['the decision requires approval but names no stage'], { decisionId })];
  return [openStage(emit, requestId, request, decision, first, at, ctx)];
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
 * of the beneficiary NHI. A self-approval attempt is evidence: it is recorded (the events returned), not just refused.
 */
const openTaskFor = (
  state: RequestApprovalState,
  command: AuthorizeTaskCommand | DecideTaskCommand,
  ctx: Deciding,
): OpenTask | { readonly blocked: Envelope } => {
  const { requestId, taskId, approverId, at } = command;
  const task = taskOf(state, taskId);
  const { request, decision } = state;
  if (!task || !request || !decision) throw new ApprovalRefused('unknown_task', `no approval task ${taskId}`);
  const status = statusOf(state);
  if (status === 'withdrawn') throw new ApprovalRefused('request_withdrawn', `request ${requestId} was withdrawn`);
  if (status !== 'pending') throw new ApprovalRefused('request_ended', `request ${requestId} has already ended (${status})`);
  // The intake withdraws a leaver's open requests; until that withdrawal is folded here, no answer may approve one.
  const left = beneficiaryLeft(request, ctx.directory);
  if (left !== undefined) throw new ApprovalRefused('request_ended', `${left}: request ${requestId} can no longer be approved`);

  const located = stageOf(decision, task.stageId);
  const ownerOfRecordStage = located ? isOwnerOfRecordStage(located.stage) && task.escalatedFromTaskId === undefined : false;
  const relation = selfRelationOf(approverId, request, ctx.directory, ownerOfRecordStage);
  if (relation) {
    const emit = ctx.emitter(requestId, at, undefined, { kind: 'user', id: approverId });
    return {
      blocked: emit(ApprovalSelfApprovalBlocked, { taskId: task.taskId, requestId, attemptedById: approverId, relation, attemptedAt: at }, [
        task.taskId,
        approverId,
        at,
      ]),
    };
  }
  return { task, request, decision, located };
};

const isEligible = (task: ApprovalTask, approverId: string, directory: Directory): boolean =>
  task.eligibleApproverIds.includes(approverId) && isActive(directory, approverId);

const notEligible = (approverId: string, taskId: string): ApprovalRefused =>
  new ApprovalRefused('not_eligible', `${approverId} is not an eligible approver of task ${taskId}`);

const authorizeTask = (command: AuthorizeTaskCommand, state: RequestApprovalState, ctx: Deciding): readonly Envelope[] => {
  const open = openTaskFor(state, command, ctx);
  if ('blocked' in open) return [open.blocked];
  const { task } = open;
  // Whoever already answered was eligible then: a repeat or a change of mind is decide_task's to judge.
  if (task.decisions.some((d) => d.approverId === command.approverId)) return [];
  if (!isEligible(task, command.approverId, ctx.directory)) throw notEligible(command.approverId, task.taskId);
  return [];
};

const decideTask = (command: DecideTaskCommand, state: RequestApprovalState, ctx: Deciding): readonly Envelope[] => {
  const open = openTaskFor(state, command, ctx);
  if ('blocked' in open) return [open.blocked];
  const { task, request, decision, located } = open;
  const { requestId, approverId, at } = command;

  const previous = task.decisions.find((d) => d.approverId === approverId);
  if (previous) {
    // A retried click is the same answer, not a second vote.
    if (previous.decision === command.decision) return [];
    throw new ApprovalRefused('already_decided', `${approverId} already answered ${previous.decision} on task ${task.taskId}`);
  }
  if (task.status !== 'open') throw new ApprovalRefused('task_closed', `task ${task.taskId} is ${task.status}`);
  if (!isEligible(task, approverId, ctx.directory)) throw notEligible(approverId, task.taskId);
  // Four eyes across stages too: one person's approval cannot satisfy two stages of the same request.
  const approvedElsewhere = state.tasks.some(
    (other) => other.taskId !== task.taskId && other.decisions.some((d) => d.approverId === approverId && d.decision === 'approve'),
  );
  if (approvedElsewhere && command.decision === 'approve') {
    throw new ApprovalRefused('not_eligible', `${approverId} already approved another stage of request ${requestId}`);
  }

  const recorded = ctx.emitter(requestId, at, undefined, { kind: 'user', id: approverId })(
    ApprovalDecisionRecorded,
    {
      taskId: task.taskId,
      requestId,
      stageId: task.stageId,
      approverId,
      decision: command.decision,
      ...(command.comment !== undefined ? { comment: command.comment } : {}),
    },
    [task.taskId, approverId],
  );
  // What the answer leads to is the service's doing, caused by the answer.
  const emit = ctx.emitter(requestId, at, recorded.id);
  if (command.decision === 'deny') {
    return [
      recorded,
      deny(emit, requestId, 'approver', [command.comment ?? `denied by ${approverId} at stage ${task.stageId}`], {
        decisionId: decision.data.decisionId,
        deniedBy: approverId,
      }),
    ];
  }

  const approvals = task.decisions.filter((d) => d.decision === 'approve').length + 1;
  if (approvals < task.quorum) return [recorded];

  const next = located ? decision.data.route?.stages[located.index + 1] : undefined;
  if (next) return [recorded, openStage(emit, requestId, request, decision, next, at, ctx)];
  const thisTask: ApprovalTask = { ...task, decisions: [...task.decisions, { approverId, decision: 'approve', decidedAt: at }] };
  // Approvals given on a task that was later escalated still counted toward its stage, so they are evidence too.
  const basis = [...state.tasks.filter((t) => t.taskId !== task.taskId), thisTask].flatMap((t) =>
    t.decisions
      .filter((d) => d.decision === 'approve')
      .map((d) => ({ taskId: t.taskId, stageId: t.stageId, approverId: d.approverId, decidedAt: d.decidedAt })),
  );
  const plan = planGrants(requestId, request, decision, ctx.directory, at);
  if (plan.problem !== undefined) return [recorded, deny(emit, requestId, 'policy', [plan.problem], { decisionId: decision.data.decisionId })];
  return [
    recorded,
    emit(
      ApprovalRequestApproved,
      {
        requestId,
        beneficiaryId: request.subject.id,
        grants: plan.grants,
        basis: { kind: 'approvals', decisionId: decision.data.decisionId, approvals: basis },
        ...(decision.data.constraints.recertificationEvery !== undefined ? { recertificationEvery: decision.data.constraints.recertificationEvery } : {}),
      },
      [requestId],
    ),
  ];
};

const deadline = (command: DeadlineCommand, state: RequestApprovalState, ctx: Deciding): Envelope[] => {
  const { requestId } = command;
  const task = taskOf(state, command.taskId);
  const { request, decision } = state;
  // A timer for a task already answered, escalated or ended is stale: nothing to do.
  if (!task || !request || !decision || task.status !== 'open' || statusOf(state) !== 'pending') return [];
  const emit = ctx.emitter(requestId, command.firedAt, command.timerEventId);
  const timeoutDeny = (reason: string): Envelope[] => [deny(emit, requestId, 'timeout', [reason], { decisionId: decision.data.decisionId })];

  if (ctx.policy.onDeadline === 'deny') return timeoutDeny(`task ${task.taskId} was not answered by ${task.dueAt}`);
  const left = beneficiaryLeft(request, ctx.directory);
  if (left !== undefined) return timeoutDeny(`task ${task.taskId} was not answered by ${task.dueAt} and ${left}: not escalated`);
  if (task.escalatedFromTaskId !== undefined) return timeoutDeny(`escalated task ${task.taskId} was not answered by ${task.dueAt}`);
  const approvers = task.decisions.map((d) => d.approverId);
  const security = eligibleSecurityMembers(request, ctx.directory, ctx.policy, approvers);
  if (security.length === 0)
    return timeoutDeny(`task ${task.taskId} was not answered by ${task.dueAt} and nobody in ${ctx.policy.securityGroup} may take it over`);

  const newTaskId = escalatedTaskIdOf(task.taskId);
  const timeout = stageOf(decision, task.stageId)?.stage.timeout ?? ctx.policy.defaultTaskTimeout;
  return [
    emit(
      ApprovalEscalated,
      { taskId: task.taskId, requestId, stageId: task.stageId, reason: 'deadline_passed', escalatedToIds: security.slice(0, 200), newTaskId },
      [task.taskId],
    ),
    emit(
      ApprovalTaskOpened,
      {
        taskId: newTaskId,
        requestId,
        stageId: task.stageId,
        eligibleApproverIds: security.slice(0, 200),
        // Approvals already given still count; the security group supplies the rest.
        quorum: Math.max(1, Math.min(task.quorum - task.decisions.length, security.length)),
        dueAt: plus(command.firedAt, timeout),
        escalatedFromTaskId: task.taskId,
      },
      [newTaskId],
    ),
  ];
};

/**
 * The approval aggregate as a Decider, pure over the command, the request's state and `context`. decide returns
 * the events to publish (none when there is nothing to do, e.g. a retried answer or a stale timer) and throws
 * ApprovalRefused when the rules refuse an answer and nothing is to be recorded.
 */
export const makeApprovalDecider = (context: DecideContext): ApprovalDecider => {
  const events = new EventFactory(context.registry, APPROVAL_PRODUCER, context.eventId);
  const ctx: Deciding = {
    ...context,
    // Every event about a request is keyed and correlated by its id; the type is part of the id, so one cause
    // yields at most one event of each type per distinguishing part (task, approver, ...).
    emitter: (requestId, time, causeId, actor) => (definition, data, idParts) =>
      events.derive(definition, data, {
        idParts: [definition.type, ...idParts],
        subject: requestId,
        correlationId: requestId,
        time,
        ...(causeId !== undefined ? { cause: { id: causeId } } : {}),
        ...(actor !== undefined ? { actor } : {}),
      }),
  };
  return {
    initialState,
    evolve,
    decide: (command, state) => {
      switch (command.kind) {
        case 'route':
          return route(command, state, ctx);
        case 'decide_task':
          return decideTask(command, state, ctx);
        case 'authorize_task':
          return authorizeTask(command, state, ctx);
        case 'deadline':
          return deadline(command, state, ctx);
      }
    },
  };
};
