import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * A live grant now ends earlier than it was created to (a certification reviewer reduced it): the scheduler moves its
 * expiry timer to `expiresAt`. Never later: a grant is extended only by a new request. `triggeredBy` is the
 * certification decision (causation carries it too).
 */
export const GrantExpiryShortenedDataSchema = z.strictObject({
  grantId: IdSchema,
  previousExpiresAt: TimestampSchema,
  expiresAt: TimestampSchema,
  reason: z.enum(['certification_reduced']),
  triggeredBy: IdSchema,
});
export type GrantExpiryShortenedData = z.infer<typeof GrantExpiryShortenedDataSchema>;

export const GrantExpiryShortened = defineEvent('iga.grant.expiry-shortened', 1, TOPICS.grants, GrantExpiryShortenedDataSchema);
