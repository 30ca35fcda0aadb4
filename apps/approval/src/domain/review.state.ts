import { ApprovalBreakGlassGranted, ApprovalReviewCompleted, ApprovalReviewEscalated, ApprovalReviewOpened, isEvent } from '@grantline/contracts';
import type { Envelope, ReviewCompletedData } from '@grantline/contracts';

/** The events a break-glass review is folded from, all keyed by the break-glass request. */
export const REVIEW_EVENTS = [ApprovalBreakGlassGranted, ApprovalReviewOpened, ApprovalReviewCompleted, ApprovalReviewEscalated] as const;

export type ReviewCompletion = Omit<ReviewCompletedData, 'reviewId' | 'kind' | 'requestId' | 'beneficiaryId'>;

/**
 * The post-incident review of one break-glass request. A break-glass request opens exactly one review, so its
 * stream is the request's: the beneficiary (from the break-glass grant) and the review (from its opening) arrive
 * on the same partition, in that order.
 */
export interface BreakGlassReviewState {
  readonly beneficiaryId?: string;
  readonly incidentRef?: string;
  readonly grantedAt?: string;
  readonly review?: {
    readonly reviewId: string;
    readonly requestId: string;
    readonly grantIds: readonly string[];
    readonly reviewerIds: readonly string[];
    readonly openedAt: string;
  };
  /** Who the review was escalated to, beside its reviewers. */
  readonly escalatedToIds: readonly string[];
  readonly dueAt?: string;
  readonly escalations: number;
  /** The timer events that escalated it: a timer redelivered escalates once. */
  readonly escalatedBy: readonly string[];
  readonly completion?: ReviewCompletion;
  readonly seenEventIds: ReadonlySet<string>;
}

export const initialReviewState = (): BreakGlassReviewState => ({ escalatedToIds: [], escalations: 0, escalatedBy: [], seenEventIds: new Set() });

const apply = (state: BreakGlassReviewState, event: Envelope): BreakGlassReviewState => {
  if (isEvent(event, ApprovalBreakGlassGranted)) {
    if (state.beneficiaryId !== undefined) return state;
    return { ...state, beneficiaryId: event.data.beneficiaryId, incidentRef: event.data.incidentRef.id, grantedAt: event.time };
  }
  if (isEvent(event, ApprovalReviewOpened)) {
    // Recertification reviews are the certification campaigns' own; only the post-incident review is folded here.
    if (event.data.kind !== 'break_glass_post_incident' || event.data.requestId === undefined || state.review) return state;
    const { reviewId, requestId, grantIds, reviewerIds, dueAt } = event.data;
    return { ...state, review: { reviewId, requestId, grantIds, reviewerIds, openedAt: event.time }, dueAt };
  }
  if (isEvent(event, ApprovalReviewCompleted)) {
    if (state.completion) return state;
    const { reviewerId, asSecurity, outcome, findings, followUp, completedAt } = event.data;
    return { ...state, completion: { reviewerId, asSecurity, outcome, findings, completedAt, ...(followUp !== undefined ? { followUp } : {}) } };
  }
  if (isEvent(event, ApprovalReviewEscalated)) {
    const causeId = event.causationid;
    return {
      ...state,
      escalations: Math.max(state.escalations, event.data.escalation),
      escalatedToIds: [...new Set([...state.escalatedToIds, ...event.data.escalatedToIds])],
      dueAt: event.data.dueAt,
      escalatedBy: causeId !== undefined && !state.escalatedBy.includes(causeId) ? [...state.escalatedBy, causeId] : state.escalatedBy,
    };
  }
  return state;
};

/** Folds one event into a break-glass review; the same event twice changes nothing the second time. */
export const evolveReview = (state: BreakGlassReviewState, event: Envelope): BreakGlassReviewState => {
  if (state.seenEventIds.has(event.id)) return state;
  return { ...apply(state, event), seenEventIds: new Set(state.seenEventIds).add(event.id) };
};

export type ReviewStatus = 'open' | 'completed';

export const reviewStatusOf = (state: BreakGlassReviewState): ReviewStatus | undefined =>
  state.review === undefined ? undefined : state.completion ? 'completed' : 'open';

/** Everyone the review is currently assigned to: its named reviewers and whoever it was escalated to. */
export const assigneesOf = (state: BreakGlassReviewState): readonly string[] => [...new Set([...(state.review?.reviewerIds ?? []), ...state.escalatedToIds])];
