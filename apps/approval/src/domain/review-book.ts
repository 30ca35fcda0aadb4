import type { Envelope } from '@grantline/contracts';
import { REVIEW_EVENTS, assigneesOf, evolveReview, initialReviewState, reviewStatusOf } from './review.state';
import type { BreakGlassReviewState } from './review.state';

const REVIEW_EVENT_TYPES: ReadonlySet<string> = new Set(REVIEW_EVENTS.map((definition) => definition.type));

/** One review as the reviewer's inbox and the review routes show it. */
export interface ReviewView {
  readonly reviewId: string;
  readonly kind: 'break_glass_post_incident';
  readonly requestId: string;
  readonly beneficiaryId?: string;
  readonly incidentRef?: string;
  readonly grantIds: readonly string[];
  readonly reviewerIds: readonly string[];
  readonly escalatedToIds: readonly string[];
  readonly escalations: number;
  readonly status: 'open' | 'completed';
  readonly openedAt: string;
  readonly dueAt?: string;
  readonly completion?: BreakGlassReviewState['completion'];
}

const viewOf = (state: BreakGlassReviewState): ReviewView | undefined => {
  const { review } = state;
  const status = reviewStatusOf(state);
  if (!review || !status) return undefined;
  return {
    reviewId: review.reviewId,
    kind: 'break_glass_post_incident',
    requestId: review.requestId,
    ...(state.beneficiaryId !== undefined ? { beneficiaryId: state.beneficiaryId } : {}),
    ...(state.incidentRef !== undefined ? { incidentRef: state.incidentRef } : {}),
    grantIds: review.grantIds,
    reviewerIds: review.reviewerIds,
    escalatedToIds: state.escalatedToIds,
    escalations: state.escalations,
    status,
    openedAt: review.openedAt,
    ...(state.dueAt !== undefined ? { dueAt: state.dueAt } : {}),
    ...(state.completion ? { completion: state.completion } : {}),
  };
};

/**
 * The break-glass reviews the approval service holds, one per break-glass request (the review's stream is its
 * request), with the review id → request index the routes need. Folded from the same replay and commits as the
 * requests; an event folded twice changes nothing.
 */
export class ReviewBook {
  private readonly byRequest = new Map<string, BreakGlassReviewState>();
  private readonly requestOfReview = new Map<string, string>();

  static folds(event: Envelope): boolean {
    return REVIEW_EVENT_TYPES.has(event.type);
  }

  fold(requestId: string, event: Envelope): void {
    if (!ReviewBook.folds(event)) return;
    const next = evolveReview(this.stateOf(requestId), event);
    this.byRequest.set(requestId, next);
    if (next.review) this.requestOfReview.set(next.review.reviewId, requestId);
  }

  stateOf(requestId: string): BreakGlassReviewState {
    return this.byRequest.get(requestId) ?? initialReviewState();
  }

  requestOf(reviewId: string): string | undefined {
    return this.requestOfReview.get(reviewId);
  }

  /** Everything the book holds, in the order it was folded (what a snapshot of it writes). */
  held(): { readonly byRequest: ReadonlyMap<string, BreakGlassReviewState>; readonly requestOfReview: ReadonlyMap<string, string> } {
    return { byRequest: this.byRequest, requestOfReview: this.requestOfReview };
  }

  /** Takes over what a snapshot held, into a book that holds nothing yet. */
  restore(byRequest: Iterable<readonly [string, BreakGlassReviewState]>, requestOfReview: Iterable<readonly [string, string]>): void {
    for (const [requestId, state] of byRequest) this.byRequest.set(requestId, state);
    for (const [reviewId, requestId] of requestOfReview) this.requestOfReview.set(reviewId, requestId);
  }

  view(requestId: string): ReviewView | undefined {
    return viewOf(this.stateOf(requestId));
  }

  /** Open reviews, oldest due first: all of them (`identityId` undefined), or those assigned to the identity. */
  open(identityId?: string): ReviewView[] {
    const views: ReviewView[] = [];
    for (const state of this.byRequest.values()) {
      if (reviewStatusOf(state) !== 'open') continue;
      if (identityId !== undefined && !assigneesOf(state).includes(identityId)) continue;
      const view = viewOf(state);
      if (view) views.push(view);
    }
    return views.sort((a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? '') || a.reviewId.localeCompare(b.reviewId));
  }
}
