import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  isEvent,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { ApprovalTask, RequestApprovalState, RequestOutcome } from './approval.state';

const closeOpenTasks = (tasks: readonly ApprovalTask[]): ApprovalTask[] => tasks.map((task) => (task.status === 'open' ? { ...task, status: 'closed' } : task));

const updateTask = (state: RequestApprovalState, taskId: string, update: (task: ApprovalTask) => ApprovalTask): readonly ApprovalTask[] =>
  state.tasks.map((task) => (task.taskId === taskId ? update(task) : task));

const ended = (state: RequestApprovalState, outcome: RequestOutcome): RequestApprovalState =>
  // The first outcome is final: a later, contradicting one (another instance's duplicate) cannot rewrite it.
  state.outcome ? state : { ...state, outcome, tasks: closeOpenTasks(state.tasks) };

const apply = (state: RequestApprovalState, event: Envelope): RequestApprovalState => {
  if (isEvent(event, RequestSubmitted)) {
    if (state.request) return state;
    const { requesterId, subject, items, duration, endsAt, emergency } = event.data;
    return {
      ...state,
      request: {
        requesterId,
        subject,
        items,
        ...(duration !== undefined ? { duration } : {}),
        ...(endsAt !== undefined ? { endsAt } : {}),
        ...(emergency ? { incidentRef: emergency.incidentRef } : {}),
      },
    };
  }
  if (isEvent(event, PolicyDecisionRecorded)) {
    // One decision routes a request; a re-decision (a new bundle) after routing is history, not a new route.
    if (state.decision) return state;
    return { ...state, decision: { eventId: event.id, time: event.time, data: event.data } };
  }
  if (isEvent(event, RequestWithdrawn)) {
    return { ...state, withdrawn: true, tasks: state.outcome ? state.tasks : closeOpenTasks(state.tasks) };
  }
  if (isEvent(event, ApprovalTaskOpened)) {
    if (state.tasks.some((task) => task.taskId === event.data.taskId)) return state;
    const { taskId, requestId, stageId, eligibleApproverIds, quorum, dueAt, escalatedFromTaskId } = event.data;
    const task: ApprovalTask = {
      taskId,
      requestId,
      stageId,
      eligibleApproverIds,
      quorum,
      dueAt,
      ...(escalatedFromTaskId !== undefined ? { escalatedFromTaskId } : {}),
      status: state.outcome || state.withdrawn ? 'closed' : 'open',
      decisions: [],
    };
    return { ...state, tasks: [...state.tasks, task] };
  }
  if (isEvent(event, ApprovalDecisionRecorded)) {
    const { taskId, approverId, decision } = event.data;
    return {
      ...state,
      tasks: updateTask(state, taskId, (task) => {
        if (task.decisions.some((d) => d.approverId === approverId)) return task;
        const decisions = [...task.decisions, { approverId, decision, decidedAt: event.time }];
        const approvals = decisions.filter((d) => d.decision === 'approve').length;
        const status = task.status !== 'open' ? task.status : decision === 'deny' ? 'denied' : approvals >= task.quorum ? 'approved' : 'open';
        return { ...task, decisions, status };
      }),
    };
  }
  if (isEvent(event, ApprovalEscalated)) {
    return { ...state, tasks: updateTask(state, event.data.taskId, (task) => (task.status === 'open' ? { ...task, status: 'escalated' } : task)) };
  }
  if (isEvent(event, ApprovalRequestApproved)) return ended(state, 'approved');
  if (isEvent(event, ApprovalRequestDenied)) return ended(state, 'denied');
  if (isEvent(event, ApprovalBreakGlassGranted)) return ended(state, 'break_glass');
  if (isEvent(event, ApprovalReviewOpened)) {
    return state.reviewIds.includes(event.data.reviewId) ? state : { ...state, reviewIds: [...state.reviewIds, event.data.reviewId] };
  }
  if (isEvent(event, ApprovalSelfApprovalBlocked)) return { ...state, blockedAttempts: state.blockedAttempts + 1 };
  return state;
};

/** Folds one event into a request's approval state; an event already folded in (same id) changes nothing. */
export const evolve = (state: RequestApprovalState, event: Envelope): RequestApprovalState => {
  if (state.seenEventIds.has(event.id)) return state;
  const next = apply(state, event);
  return { ...next, seenEventIds: new Set(state.seenEventIds).add(event.id) };
};
