import { z } from 'zod';
import { LIMITS } from '@grantline/contracts';

const ReviewTextSchema = z.string().trim().min(1).max(LIMITS.comment);

/** The outcome of a post-incident review; who records it comes from the token, never from the body. */
export const ReviewCompletionBodySchema = z.strictObject({
  outcome: z.enum(['justified', 'unjustified']),
  findings: ReviewTextSchema,
  followUp: ReviewTextSchema.optional(),
});
export type ReviewCompletionBody = z.infer<typeof ReviewCompletionBodySchema>;

export const ReviewViewSchema = z.object({
  reviewId: z.string(),
  kind: z.literal('break_glass_post_incident'),
  requestId: z.string(),
  beneficiaryId: z.string().optional(),
  incidentRef: z.string().optional(),
  grantIds: z.array(z.string()),
  reviewerIds: z.array(z.string()).describe('The named reviewers'),
  escalatedToIds: z.array(z.string()).describe('Who the review was escalated to when it passed its due time'),
  escalations: z.number().int(),
  status: z.enum(['open', 'completed']),
  openedAt: z.iso.datetime(),
  dueAt: z.iso.datetime().optional(),
  completion: z
    .object({
      reviewerId: z.string(),
      asSecurity: z.boolean(),
      outcome: z.enum(['justified', 'unjustified']),
      findings: z.string(),
      followUp: z.string().optional(),
      completedAt: z.iso.datetime(),
    })
    .optional(),
});
export const ReviewListSchema = z.object({ reviews: z.array(ReviewViewSchema) });
