import { z } from 'zod';
import { IdSchema, Sha256HexSchema, ShortTextSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';
import { PolicyEffectSchema } from './decision-recorded.schema';

/** At most this many of today's reasons per item: a campaign of 2,000 items must fit one Kafka record. */
export const REVIEW_ITEM_REASONS_MAX = 3;

/**
 * Why today's bundle could not say what it would decide for an item:
 * - `no_recorded_decision`: the log holds no decision for the item's request;
 * - `recorded_before_v2`: the decision is a v1 record, which did not keep the whole evaluation;
 * - `refused_before_evaluation`: the request was refused before the engine ran (nothing to re-evaluate);
 * - `evaluation_failed`: the recorded input no longer evaluates under today's bundle.
 */
export const ReviewItemUnknownReasonSchema = z.enum(['no_recorded_decision', 'recorded_before_v2', 'refused_before_evaluation', 'evaluation_failed']);
export type ReviewItemUnknownReason = z.infer<typeof ReviewItemUnknownReasonSchema>;

const itemRef = { itemId: IdSchema, grantId: IdSchema, requestId: IdSchema };

/** One review item: the verdict recorded at grant time beside what today's bundle decides for the same input. */
export const ReviewItemEvaluationSchema = z.discriminatedUnion('outcome', [
  z.strictObject({
    ...itemRef,
    outcome: z.literal('evaluated'),
    recordedDecisionId: IdSchema,
    recordedBundleDigest: Sha256HexSchema,
    recordedEffect: PolicyEffectSchema,
    currentEffect: PolicyEffectSchema,
    currentReasons: z.array(ShortTextSchema).max(REVIEW_ITEM_REASONS_MAX),
    /** The effect differs from the one recorded at grant time. */
    changed: z.boolean(),
  }),
  z.strictObject({
    ...itemRef,
    outcome: z.literal('unknown'),
    reason: ReviewItemUnknownReasonSchema,
    detail: ShortTextSchema,
    recordedDecisionId: IdSchema.optional(),
    recordedBundleDigest: Sha256HexSchema.optional(),
    recordedEffect: PolicyEffectSchema.optional(),
  }),
]);
export type ReviewItemEvaluation = z.infer<typeof ReviewItemEvaluationSchema>;

/**
 * The policy service's answer to `iga.approval.campaign-started`: each item's recorded decision re-evaluated, same
 * input, with the bundle the policy service runs when it handles the campaign (`currentBundleDigest`). One per
 * campaign, at the campaign's time; the event id derives from the campaign id, so a redelivered campaign publishes
 * nothing new.
 */
export const ReviewItemsEvaluatedDataSchema = z.strictObject({
  campaignId: IdSchema,
  currentBundleDigest: Sha256HexSchema,
  items: z.array(ReviewItemEvaluationSchema).max(2000),
});
export type ReviewItemsEvaluatedData = z.infer<typeof ReviewItemsEvaluatedDataSchema>;

export const PolicyReviewItemsEvaluated = defineEvent('iga.policy.review-items-evaluated', 1, TOPICS.decisions, ReviewItemsEvaluatedDataSchema);
