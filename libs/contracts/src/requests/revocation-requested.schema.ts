import { z } from 'zod';
import { IdSchema, LIMITS } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

const RevocationFields = {
  revocationId: IdSchema,
  requestedBy: IdSchema,
  reason: z.string().trim().min(1).max(LIMITS.comment),
};

/** A manual revocation of one grant, or of every grant a request produced. */
export const RevocationRequestedDataSchema = z.union([
  z.strictObject({ ...RevocationFields, grantId: IdSchema }),
  z.strictObject({ ...RevocationFields, requestId: IdSchema }),
]);
export type RevocationRequestedData = z.infer<typeof RevocationRequestedDataSchema>;
export const RevocationRequested = defineEvent('iga.revocation.requested', 1, TOPICS.requests, RevocationRequestedDataSchema);
