import { ApprovalCampaignStarted, LIMITS, PolicyDecisionRecorded, PolicyReviewItemsEvaluated, REVIEW_ITEM_REASONS_MAX, isEvent } from '@grantline/contracts';
import type { CampaignStartedData, Envelope, EventRegistry, PolicyEffect, ReviewItemEvaluation, ReviewItemsEvaluatedData } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';
import { evaluate } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';
import { digestHex } from './decision-record.mapper';
import { POLICY_PRODUCER } from './policy.decider';

/**
 * What a review item needs of the decision recorded for its request: the verdict, its bundle, and the engine input
 * when there is an evaluation to repeat (a v1 record or a refusal keeps none, so nothing is held for it).
 */
export interface RecordedDecisionFact {
  readonly decisionId: string;
  readonly bundleDigest: string;
  readonly effect: PolicyEffect;
  readonly outcome: 'evaluated' | 'refused_before_evaluation' | 'recorded_before_v2';
  readonly reasons: readonly string[];
  readonly inputSnapshot?: Readonly<Record<string, unknown>>;
}

/** Policy's own decisions, folded from its decisions topic, and the campaigns it already answered. */
export interface ReviewReevaluationFacts {
  /** The first decision recorded per request: the one that routed it (the approval service keeps the same one). */
  readonly decisionsByRequest: Map<string, RecordedDecisionFact>;
  readonly evaluatedCampaigns: Set<string>;
}

/** The events these facts are folded from (all on the decisions topic, policy's own). */
export const REVIEW_REEVALUATION_EVENTS = [PolicyDecisionRecorded, PolicyReviewItemsEvaluated] as const;

export const emptyReviewReevaluationFacts = (): ReviewReevaluationFacts => ({ decisionsByRequest: new Map(), evaluatedCampaigns: new Set() });

const copyFacts = (facts: ReviewReevaluationFacts): ReviewReevaluationFacts => ({
  decisionsByRequest: new Map(facts.decisionsByRequest),
  evaluatedCampaigns: new Set(facts.evaluatedCampaigns),
});

/** Folds one of policy's own events in place; false when the event is none of them. A duplicate changes nothing. */
export function applyReviewReevaluationFact(facts: ReviewReevaluationFacts, event: Envelope): boolean {
  if (isEvent(event, PolicyDecisionRecorded)) {
    const { data } = event;
    if (facts.decisionsByRequest.has(data.requestId)) return true;
    facts.decisionsByRequest.set(data.requestId, {
      decisionId: data.decisionId,
      bundleDigest: data.bundleDigest,
      effect: data.effect,
      outcome: data.evaluation.outcome,
      reasons: data.reasons,
      ...(data.evaluation.outcome === 'evaluated' ? { inputSnapshot: data.inputSnapshot } : {}),
    });
    return true;
  }
  if (isEvent(event, PolicyReviewItemsEvaluated)) {
    facts.evaluatedCampaigns.add(event.data.campaignId);
    return true;
  }
  return false;
}

/** Request ids of the campaign's items that have no recorded decision folded yet (a fence reads the decisions topic first). */
export const requestsWithoutDecision = (campaign: CampaignStartedData, facts: ReviewReevaluationFacts): string[] =>
  [...new Set(campaign.items.map((item) => item.requestId))].filter((requestId) => !facts.decisionsByRequest.has(requestId));

export type ReviewReevaluationCommand = { readonly campaign: Envelope<CampaignStartedData> };

export interface ReviewReevaluationContext {
  /** The bundle active now. */
  readonly bundle: Bundle;
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
}

export type ReviewReevaluationDecider = Decider<ReviewReevaluationCommand, Envelope, ReviewReevaluationFacts>;

const shortText = (text: string): string => (text.length <= LIMITS.shortText ? text : `${text.slice(0, LIMITS.shortText - 1)}…`);
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';

type ItemRef = Pick<ReviewItemEvaluation, 'itemId' | 'grantId' | 'requestId'>;

/** One item: the recorded verdict beside today's for the same input, or why there is none. */
export const reevaluateItem = (item: ItemRef, recorded: RecordedDecisionFact | undefined, bundle: Bundle): ReviewItemEvaluation => {
  const ref = { itemId: item.itemId, grantId: item.grantId, requestId: item.requestId };
  if (recorded === undefined) {
    return { ...ref, outcome: 'unknown', reason: 'no_recorded_decision', detail: `no decision for request ${item.requestId} is recorded on the log` };
  }
  const recordedSide = { recordedDecisionId: recorded.decisionId, recordedBundleDigest: recorded.bundleDigest, recordedEffect: recorded.effect };
  if (recorded.outcome === 'refused_before_evaluation') {
    const detail = shortText(`refused before the engine evaluated it: ${recorded.reasons.join('; ')}`);
    return { ...ref, outcome: 'unknown', reason: 'refused_before_evaluation', detail, ...recordedSide };
  }
  if (recorded.outcome === 'recorded_before_v2' || recorded.inputSnapshot === undefined) {
    return { ...ref, outcome: 'unknown', reason: 'recorded_before_v2', detail: 'recorded before v2: v1 did not keep the whole evaluation', ...recordedSide };
  }
  try {
    const today = evaluate(bundle, recorded.inputSnapshot);
    return {
      ...ref,
      outcome: 'evaluated',
      ...recordedSide,
      currentEffect: today.effect,
      currentReasons: today.reasons.slice(0, REVIEW_ITEM_REASONS_MAX).map(shortText),
      changed: today.effect !== recorded.effect,
    };
  } catch (error) {
    return {
      ...ref,
      outcome: 'unknown',
      reason: 'evaluation_failed',
      detail: shortText(`today's bundle cannot evaluate the recorded input: ${messageOf(error)}`),
      ...recordedSide,
    };
  }
};

/**
 * A campaign started: what today's bundle decides for each item's recorded input, beside the verdict recorded at
 * grant time. One event per campaign, its id from the campaign id; a campaign already answered decides nothing (its
 * answer stays the one given, even under a later bundle).
 */
export function makeReviewReevaluationDecider({ bundle, registry, eventId }: ReviewReevaluationContext): ReviewReevaluationDecider {
  const events = new EventFactory(registry, POLICY_PRODUCER, eventId);
  return {
    initialState: emptyReviewReevaluationFacts,
    evolve: (facts, event) => {
      const next = copyFacts(facts);
      return applyReviewReevaluationFact(next, event) ? next : facts;
    },
    decide: ({ campaign }, facts) => {
      if (!isEvent(campaign, ApprovalCampaignStarted)) return [];
      const { campaignId, items } = campaign.data;
      if (facts.evaluatedCampaigns.has(campaignId)) return [];
      const data: ReviewItemsEvaluatedData = {
        campaignId,
        currentBundleDigest: digestHex(bundle.digest),
        items: items.map((item) => reevaluateItem(item, facts.decisionsByRequest.get(item.requestId), bundle)),
      };
      return [
        events.derive(PolicyReviewItemsEvaluated, data, {
          cause: campaign,
          idParts: ['review-items-evaluated', campaignId],
          subject: campaignId,
          correlationId: campaignId,
        }),
      ];
    },
  };
}
