import { ApprovalBreakGlassGranted, ApprovalReviewCompleted, ApprovalReviewOpened, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';

/** The approval facts policy folds to know whose break-glass use still awaits its post-incident review. */
export const BREAK_GLASS_REVIEW_EVENTS = [ApprovalBreakGlassGranted, ApprovalReviewOpened, ApprovalReviewCompleted] as const;

/**
 * Break-glass uses and their reviews, folded in place. Kept per request and joined when asked, so the facts may
 * arrive in any order (a completion seen before its opening, after a catch-up) and a duplicate changes nothing.
 */
export interface BreakGlassReviewFacts {
  /** Break-glass requests per beneficiary. */
  readonly usesByBeneficiary: Map<string, Set<string>>;
  /** The post-incident review each break-glass request opened. */
  readonly reviewOfRequest: Map<string, string>;
  readonly completedReviews: Set<string>;
}

export const emptyBreakGlassReviewFacts = (): BreakGlassReviewFacts => ({
  usesByBeneficiary: new Map(),
  reviewOfRequest: new Map(),
  completedReviews: new Set(),
});

export const copyBreakGlassReviewFacts = (facts: BreakGlassReviewFacts): BreakGlassReviewFacts => ({
  usesByBeneficiary: new Map([...facts.usesByBeneficiary].map(([beneficiaryId, requests]) => [beneficiaryId, new Set(requests)])),
  reviewOfRequest: new Map(facts.reviewOfRequest),
  completedReviews: new Set(facts.completedReviews),
});

/** Folds one approval fact; false when the event is none of them. */
export function applyBreakGlassReviewFact(facts: BreakGlassReviewFacts, event: Envelope): boolean {
  if (isEvent(event, ApprovalBreakGlassGranted)) {
    const uses = facts.usesByBeneficiary.get(event.data.beneficiaryId) ?? new Set<string>();
    uses.add(event.data.requestId);
    facts.usesByBeneficiary.set(event.data.beneficiaryId, uses);
    return true;
  }
  if (isEvent(event, ApprovalReviewOpened)) {
    if (event.data.kind === 'break_glass_post_incident' && event.data.requestId !== undefined)
      facts.reviewOfRequest.set(event.data.requestId, event.data.reviewId);
    return true;
  }
  if (isEvent(event, ApprovalReviewCompleted)) {
    facts.completedReviews.add(event.data.reviewId);
    return true;
  }
  return false;
}

/** The post-incident reviews of the identity's break-glass uses not completed yet, sorted. */
export const openBreakGlassReviewsOf = (facts: BreakGlassReviewFacts, beneficiaryId: string): string[] =>
  [...(facts.usesByBeneficiary.get(beneficiaryId) ?? [])]
    .flatMap((requestId) => {
      const reviewId = facts.reviewOfRequest.get(requestId);
      return reviewId !== undefined && !facts.completedReviews.has(reviewId) ? [reviewId] : [];
    })
    .sort();
