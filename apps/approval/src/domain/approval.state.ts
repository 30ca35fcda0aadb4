import type { DecisionRecordedData, RequestItems, SubjectRef } from '@grantline/contracts';

export type TaskStatus = 'open' | 'approved' | 'denied' | 'escalated' | 'closed';

export interface TaskDecision {
  readonly approverId: string;
  readonly decision: 'approve' | 'deny';
  readonly decidedAt: string;
}

export interface ApprovalTask {
  readonly taskId: string;
  readonly requestId: string;
  readonly stageId: string;
  readonly eligibleApproverIds: readonly string[];
  readonly quorum: number;
  readonly dueAt: string;
  readonly escalatedFromTaskId?: string;
  readonly status: TaskStatus;
  readonly decisions: readonly TaskDecision[];
}

export interface SubmittedRequest {
  readonly requesterId: string;
  readonly subject: SubjectRef;
  readonly items: RequestItems;
  readonly duration?: string;
  readonly endsAt?: string;
  readonly incidentRef?: { readonly system: 'servicenow' | 'jira' | 'other'; readonly id: string; readonly url?: string };
}

export interface RecordedDecision {
  readonly eventId: string;
  readonly time: string;
  readonly data: DecisionRecordedData;
}

export type RequestOutcome = 'approved' | 'denied' | 'break_glass';

/**
 * One request's approval aggregate: the request, its policy decision, its tasks and how it ended. Its request id
 * is the stream's, outside the state (every command names it), so the initial state is the same for every request.
 */
export interface RequestApprovalState {
  readonly request?: SubmittedRequest;
  readonly decision?: RecordedDecision;
  readonly tasks: readonly ApprovalTask[];
  readonly outcome?: RequestOutcome;
  readonly withdrawn: boolean;
  readonly reviewIds: readonly string[];
  readonly blockedAttempts: number;
  /** Every event folded in so far: the same event delivered twice changes nothing the second time. */
  readonly seenEventIds: ReadonlySet<string>;
}

export type RequestStatus = 'awaiting_request' | 'awaiting_decision' | 'pending' | 'withdrawn' | RequestOutcome;

export const initialState = (): RequestApprovalState => ({
  tasks: [],
  withdrawn: false,
  reviewIds: [],
  blockedAttempts: 0,
  seenEventIds: new Set(),
});

/** The outcome wins over a later withdrawal: an approved request that is withdrawn is revoked by provisioning. */
export const statusOf = (state: RequestApprovalState): RequestStatus => {
  if (state.outcome) return state.outcome;
  if (state.withdrawn) return 'withdrawn';
  if (!state.request) return 'awaiting_request';
  if (!state.decision) return 'awaiting_decision';
  return 'pending';
};

export const taskOf = (state: RequestApprovalState, taskId: string): ApprovalTask | undefined => state.tasks.find((task) => task.taskId === taskId);

export const openTasks = (state: RequestApprovalState): ApprovalTask[] => state.tasks.filter((task) => task.status === 'open');
