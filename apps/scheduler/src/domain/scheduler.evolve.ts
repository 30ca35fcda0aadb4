import {
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalTaskOpened,
  GrantActivated,
  GrantCreated,
  GrantRevoked,
  TimerFired,
  isEvent,
  isoDurationToMillis,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { timerIdOf } from './scheduler.state';
import type { MutableSchedulerState, PendingTimer, RecertificationPlan } from './scheduler.state';

/** The event types that change the scheduler's state; every other type is ignored. */
export const SCHEDULER_INPUT_TYPES = [
  GrantCreated.type,
  GrantActivated.type,
  GrantRevoked.type,
  ApprovalTaskOpened.type,
  ApprovalDecisionRecorded.type,
  ApprovalRequestApproved.type,
  ApprovalRequestDenied.type,
  ApprovalEscalated.type,
  ApprovalReviewOpened.type,
  TimerFired.type,
] as const;

const INPUT_TYPES: ReadonlySet<string> = new Set(SCHEDULER_INPUT_TYPES);

/**
 * Applies `event` in place; returns false when it changed nothing (unknown type, or an event id already applied).
 * The single implementation of the transition: the decider's evolve is this on a copy, the runtime's book this in place.
 */
export function apply(state: MutableSchedulerState, event: Envelope): boolean {
  if (!INPUT_TYPES.has(event.type) || state.applied.has(event.id)) return false;
  state.applied.add(event.id);

  if (isEvent(event, GrantCreated) || isEvent(event, GrantActivated)) {
    const { grantId, expiresAt } = event.data;
    const requestId = isEvent(event, GrantCreated) ? event.data.requestId : state.timers.get(timerIdOf('grant_expiry', grantId))?.target.requestId;
    armGrantTimer(state, {
      timerId: timerIdOf('grant_expiry', grantId),
      kind: 'grant_expiry',
      dueAt: Date.parse(expiresAt),
      target: requestId === undefined ? { grantId } : { grantId, requestId },
      subject: event.subject,
      correlationId: event.correlationid,
      causationId: event.id,
    });
    const plan = state.recertifications.get(grantId);
    if (plan) {
      state.recertifications.set(grantId, { ...plan, expiresAt: Date.parse(expiresAt) });
      rearmRecertification(state, grantId);
    }
  } else if (isEvent(event, GrantRevoked)) {
    endGrant(state, event.data.grantId);
  } else if (isEvent(event, ApprovalTaskOpened)) {
    const { taskId, requestId, quorum, dueAt } = event.data;
    if (state.endedTasks.has(taskId)) return true;
    state.tasks.set(taskId, { requestId, quorum, approverIds: state.tasks.get(taskId)?.approverIds ?? [] });
    const siblings = state.tasksByRequest.get(requestId) ?? [];
    if (!siblings.includes(taskId)) state.tasksByRequest.set(requestId, [...siblings, taskId]);
    arm(state, {
      timerId: timerIdOf('approval_deadline', taskId),
      kind: 'approval_deadline',
      dueAt: Date.parse(dueAt),
      target: { taskId, requestId },
      subject: event.subject,
      correlationId: event.correlationid,
      causationId: event.id,
    });
  } else if (isEvent(event, ApprovalDecisionRecorded)) {
    const { taskId, approverId, decision } = event.data;
    const task = state.tasks.get(taskId);
    if (decision === 'deny') {
      endTask(state, taskId);
    } else if (task && !task.approverIds.includes(approverId)) {
      // A quorum counts distinct approvers: the deadline stands until enough of them approved.
      const approverIds = [...task.approverIds, approverId];
      if (approverIds.length >= task.quorum) endTask(state, taskId);
      else state.tasks.set(taskId, { ...task, approverIds });
    }
  } else if (isEvent(event, ApprovalRequestApproved)) {
    endTasksOfRequest(state, event.data.requestId);
    const everyMs = event.data.recertificationEvery === undefined ? undefined : isoDurationToMillis(event.data.recertificationEvery);
    if (everyMs !== undefined) {
      for (const grant of event.data.grants) {
        if (state.endedGrants.has(grant.grantId)) continue;
        state.recertifications.set(grant.grantId, {
          grantId: grant.grantId,
          requestId: event.data.requestId,
          anchorAt: Date.parse(event.time),
          everyMs,
          expiresAt: Date.parse(grant.expiresAt),
          causationId: event.id,
        });
        rearmRecertification(state, grant.grantId, event);
      }
    }
  } else if (isEvent(event, ApprovalRequestDenied)) {
    endTasksOfRequest(state, event.data.requestId);
  } else if (isEvent(event, ApprovalEscalated)) {
    // The replacement task arrives with its own task-opened and its own deadline.
    endTask(state, event.data.taskId);
  } else if (isEvent(event, ApprovalReviewOpened)) {
    const { reviewId, kind, requestId, dueAt } = event.data;
    // Only break-glass reviews have a timer kind; a recertification review's own deadline is the approval service's.
    if (kind === 'break_glass_post_incident') {
      arm(state, {
        timerId: timerIdOf('break_glass_review_due', reviewId),
        kind: 'break_glass_review_due',
        dueAt: Date.parse(dueAt),
        target: requestId === undefined ? { reviewId } : { reviewId, requestId },
        subject: event.subject,
        correlationId: event.correlationid,
        causationId: event.id,
      });
    }
  } else if (isEvent(event, TimerFired)) {
    const { timerId, kind, target } = event.data;
    state.fired.add(timerId);
    state.timers.delete(timerId);
    if (kind === 'recertification_due' && target.grantId !== undefined) rearmRecertification(state, target.grantId);
  }
  return true;
}

function arm(state: MutableSchedulerState, timer: PendingTimer): void {
  // A timer that fired once never fires again, whatever re-arms it later (replay order, a moved deadline).
  if (state.fired.has(timer.timerId)) return;
  const existing = state.timers.get(timer.timerId);
  state.timers.set(timer.timerId, existing ? { ...existing, dueAt: timer.dueAt, causationId: timer.causationId } : timer);
}

function armGrantTimer(state: MutableSchedulerState, timer: PendingTimer): void {
  if (timer.target.grantId !== undefined && state.endedGrants.has(timer.target.grantId)) return;
  arm(state, timer);
}

function endGrant(state: MutableSchedulerState, grantId: string): void {
  state.endedGrants.add(grantId);
  state.timers.delete(timerIdOf('grant_expiry', grantId));
  const plan = state.recertifications.get(grantId);
  if (plan) {
    state.timers.delete(timerIdOf('recertification_due', grantId, nextOccurrence(state, plan)));
    state.recertifications.delete(grantId);
  }
}

function endTask(state: MutableSchedulerState, taskId: string): void {
  state.endedTasks.add(taskId);
  state.timers.delete(timerIdOf('approval_deadline', taskId));
  const task = state.tasks.get(taskId);
  state.tasks.delete(taskId);
  if (task) {
    const siblings = (state.tasksByRequest.get(task.requestId) ?? []).filter((id) => id !== taskId);
    if (siblings.length > 0) state.tasksByRequest.set(task.requestId, siblings);
    else state.tasksByRequest.delete(task.requestId);
  }
}

function endTasksOfRequest(state: MutableSchedulerState, requestId: string): void {
  for (const taskId of state.tasksByRequest.get(requestId) ?? []) endTask(state, taskId);
}

/** The first occurrence of a plan that has not fired yet (occurrences are numbered from 1). */
function nextOccurrence(state: MutableSchedulerState, plan: RecertificationPlan): number {
  let occurrence = 1;
  while (state.fired.has(timerIdOf('recertification_due', plan.grantId, occurrence))) occurrence += 1;
  return occurrence;
}

/** Arms the next unfired recertification of a grant, or none when it would fall on or after the grant's expiry. */
function rearmRecertification(state: MutableSchedulerState, grantId: string, arming?: Envelope): void {
  const plan = state.recertifications.get(grantId);
  if (!plan || state.endedGrants.has(grantId)) return;
  const occurrence = nextOccurrence(state, plan);
  // Drop a stale occurrence armed before the plan moved (an earlier expiry, or a fired predecessor).
  for (let previous = 1; previous < occurrence; previous += 1) state.timers.delete(timerIdOf('recertification_due', grantId, previous));
  const timerId = timerIdOf('recertification_due', grantId, occurrence);
  const dueAt = plan.anchorAt + occurrence * plan.everyMs;
  if (dueAt >= plan.expiresAt) {
    state.timers.delete(timerId);
    return;
  }
  arm(state, {
    timerId,
    kind: 'recertification_due',
    dueAt,
    target: { grantId, requestId: plan.requestId },
    subject: arming?.subject ?? state.timers.get(timerIdOf('grant_expiry', grantId))?.subject ?? plan.requestId,
    correlationId: arming?.correlationid ?? plan.requestId,
    causationId: plan.causationId,
  });
}
