import { z } from 'zod';
import { IdSchema, LIMITS, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

const ReviewTextSchema = z.string().trim().min(1).max(LIMITS.comment);

/**
 * A break-glass use's post-incident review was completed: by whom (a named reviewer or security, never the
 * beneficiary), what they concluded and what follows. Keyed by the request, like the review it closes, so it is
 * ordered after the review's opening on the log. One per review: a review is completed once.
 */
export const ReviewCompletedDataSchema = z.strictObject({
  reviewId: IdSchema,
  kind: z.enum(['break_glass_post_incident']),
  requestId: IdSchema,
  /** Whose break-glass use was reviewed: policy folds the open reviews per beneficiary. */
  beneficiaryId: IdSchema,
  reviewerId: IdSchema,
  /** Reviewed as security (a member of the security group), rather than as a named reviewer. */
  asSecurity: z.boolean(),
  outcome: z.enum(['justified', 'unjustified']),
  findings: ReviewTextSchema,
  followUp: ReviewTextSchema.optional(),
  completedAt: TimestampSchema,
});
export type ReviewCompletedData = z.infer<typeof ReviewCompletedDataSchema>;

/**
 * A post-incident review passed its due time unanswered: it is handed to more people (the security group, the
 * reviewers' managers) with a new due time. The review stays open; its first reviewers keep it too.
 */
export const ReviewEscalatedDataSchema = z.strictObject({
  reviewId: IdSchema,
  requestId: IdSchema,
  beneficiaryId: IdSchema,
  reason: z.enum(['deadline_passed']),
  /** 1 for the first escalation. */
  escalation: z.number().int().min(1).max(100),
  previousDueAt: TimestampSchema,
  escalatedToIds: idListSchema({ min: 1 }),
  dueAt: TimestampSchema,
});
export type ReviewEscalatedData = z.infer<typeof ReviewEscalatedDataSchema>;

export const ApprovalReviewCompleted = defineEvent('iga.approval.review-completed', 1, TOPICS.approvals, ReviewCompletedDataSchema);
export const ApprovalReviewEscalated = defineEvent('iga.approval.review-escalated', 1, TOPICS.approvals, ReviewEscalatedDataSchema);
