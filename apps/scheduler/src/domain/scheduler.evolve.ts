import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationLapsed,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
  ApprovalReviewOpened,
  ApprovalTaskOpened,
  GrantActivated,
  GrantCreated,
  GrantExpiryShortened,
  GrantRevoked,
  IdentityOwnerChanged,
  IdentityOwnershipTransferOpened,
  TimerFired,
  isEvent,
  isoDurationToMillis,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { timerIdOf } from './scheduler.state';
import type { MutableSchedulerState, PendingTimer, RecertificationPlan, TimerTarget } from './scheduler.state';

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
  ApprovalReviewEscalated.type,
  ApprovalReviewCompleted.type,
  TimerFired.type,
  ApprovalCampaignScheduled.type,
  ApprovalCampaignStarted.type,
  ApprovalCertificationLapsed.type,
  ApprovalCampaignCompleted.type,
  GrantExpiryShortened.type,
  IdentityOwnershipTransferOpened.type,
  IdentityOwnerChanged.type,
] as const;

const INPUT_TYPES: ReadonlySet<string> = new Set(SCHEDULER_INPUT_TYPES);

/**
 * Applies `event` in place; returns false when it changed nothing (unknown type, or an event id already applied).
 * The single implementation of the transition: the decider's evolve is this on a copy, the runtime's book this in place.
 */
export function apply(state: MutableSchedulerState, event: Envelope): boolean {
  if (!INPUT_TYPES.has(event.type) || state.applied.has(event.id)) return false;
  state.applied.add(event.id);

  // A certification that reduced a grant moves its expiry like an activation does (arm keeps the timer, moves its time).
  if (isEvent(event, GrantCreated) || isEvent(event, GrantActivated) || isEvent(event, GrantExpiryShortened)) {
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
  } else if (isEvent(event, ApprovalReviewEscalated)) {
    // An escalated review is due again: one timer per escalation (the review's first timer fired already).
    const { reviewId, requestId, escalation, dueAt } = event.data;
    arm(state, {
      timerId: timerIdOf('break_glass_review_due', reviewId, escalation),
      kind: 'break_glass_review_due',
      dueAt: Date.parse(dueAt),
      target: { reviewId, requestId },
      subject: event.subject,
      correlationId: event.correlationid,
      causationId: event.id,
    });
  } else if (isEvent(event, ApprovalReviewCompleted)) {
    // A completed review is due no more, at whatever escalation it was.
    const prefix = timerIdOf('break_glass_review_due', event.data.reviewId);
    for (const timerId of [...state.timers.keys()]) if (timerId === prefix || timerId.startsWith(`${prefix}:`)) state.timers.delete(timerId);
  } else if (isEvent(event, IdentityOwnershipTransferOpened)) {
    // The case's deadline: if nobody has accepted ownership by then, provisioning revokes the NHI's grants.
    const { transferId, identityId, dueAt } = event.data;
    const previous = state.ownershipTransfers.get(identityId);
    if (previous !== undefined && previous !== transferId) state.timers.delete(timerIdOf('ownership_transfer_due', previous));
    state.ownershipTransfers.set(identityId, transferId);
    arm(state, {
      timerId: timerIdOf('ownership_transfer_due', transferId),
      kind: 'ownership_transfer_due',
      dueAt: Date.parse(dueAt),
      target: { transferId, identityId },
      subject: event.subject,
      correlationId: event.correlationid,
      causationId: event.id,
    });
  } else if (isEvent(event, IdentityOwnerChanged)) {
    // Someone took ownership (both events are keyed by the NHI, so the change never overtakes the case it closes).
    const transferId = state.ownershipTransfers.get(event.data.identityId);
    if (transferId !== undefined) {
      state.timers.delete(timerIdOf('ownership_transfer_due', transferId));
      state.ownershipTransfers.delete(event.data.identityId);
    }
  } else if (isEvent(event, ApprovalCampaignScheduled)) {
    // The next run of a campaign definition with a cadence; the approval service starts it when this fires.
    const { campaignId, dueAt } = event.data;
    arm(state, certificationTimer('campaign_due', campaignId, Date.parse(dueAt), { campaignId }, event));
  } else if (isEvent(event, ApprovalCampaignStarted)) {
    const { campaignId, dueAt } = event.data;
    arm(state, certificationTimer('review_deadline', campaignId, Date.parse(dueAt), { reviewId: campaignId, campaignId }, event));
  } else if (isEvent(event, ApprovalCertificationLapsed)) {
    // An escalated item has a deadline of its own (the item id: the campaign's timer has fired).
    const { campaignId, itemId, action, dueAt } = event.data;
    if (action === 'escalate' && dueAt !== undefined) {
      arm(state, certificationTimer('review_deadline', itemId, Date.parse(dueAt), { reviewId: itemId, campaignId }, event));
    }
  } else if (isEvent(event, ApprovalCampaignCompleted)) {
    // Every item is closed: the campaign's deadline has nothing left to do (an escalated item's timer finds it closed).
    state.timers.delete(timerIdOf('review_deadline', event.data.campaignId));
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

function certificationTimer(kind: 'campaign_due' | 'review_deadline', targetId: string, dueAt: number, target: TimerTarget, cause: Envelope): PendingTimer {
  return { timerId: timerIdOf(kind, targetId), kind, dueAt, target, subject: cause.subject, correlationId: cause.correlationid, causationId: cause.id };
}
