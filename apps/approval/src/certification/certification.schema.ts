import { z } from 'zod';
import { CertificationDecisionSchema, IdSchema, LIMITS, TimestampSchema } from '@grantline/contracts';

export const StartCampaignBodySchema = z.strictObject({ definitionId: IdSchema });

export const ItemDecisionBodySchema = z
  .strictObject({
    decision: CertificationDecisionSchema,
    newExpiresAt: TimestampSchema.optional(),
    comment: z.string().trim().min(1).max(LIMITS.comment).optional(),
  })
  .refine((body) => (body.decision === 'reduce') === (body.newExpiresAt !== undefined), {
    message: 'newExpiresAt is required for, and only for, reduce',
    path: ['newExpiresAt'],
  });
