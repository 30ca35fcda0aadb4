import { z } from 'zod';
import { IdSchema, LIMITS } from '@grantline/contracts';

export const TaskDecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  comment: z.string().trim().min(1).max(LIMITS.comment).optional(),
});
export type TaskDecisionBody = z.infer<typeof TaskDecisionBodySchema>;

/** `approverId` is optional: the list is always the caller's own (the edge refuses any other id before this). */
export const TasksQuerySchema = z.object({ approverId: IdSchema.optional() });
