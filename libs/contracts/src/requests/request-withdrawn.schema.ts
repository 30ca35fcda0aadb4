import { z } from 'zod';
import { IdSchema, LIMITS } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const RequestWithdrawnDataSchema = z.strictObject({
  requestId: IdSchema,
  /** Who withdrew it: the requester, or the beneficiary's owner/manager. */
  withdrawnBy: IdSchema,
  reason: z.string().trim().min(1).max(LIMITS.comment).optional(),
});
export type RequestWithdrawnData = z.infer<typeof RequestWithdrawnDataSchema>;
export const RequestWithdrawn = defineEvent('iga.request.withdrawn', 1, TOPICS.requests, RequestWithdrawnDataSchema);
