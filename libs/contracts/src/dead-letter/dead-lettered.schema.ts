import { z } from 'zod';
import { IdSchema, LIMITS, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const DeadLetterErrorClassSchema = z.enum(['schema_invalid', 'unknown_type', 'terminal', 'retries_exhausted']);
export type DeadLetterErrorClass = z.infer<typeof DeadLetterErrorClassSchema>;

/**
 * A poison message, kept whole so it can be inspected and replayed. The dead-letter topic is configured with a
 * larger max.message.bytes than the others, because the original value plus this wrapper may exceed 1 MB.
 */
export const DeadLetteredDataSchema = z.strictObject({
  origin: z.strictObject({
    topic: z.string().min(1).max(249),
    partition: z.number().int().nonnegative(),
    /** Kafka offsets are 64-bit: kept as a decimal string. */
    offset: z.string().regex(/^\d{1,19}$/),
    key: z.string().max(LIMITS.shortText).nullable(),
  }),
  reason: z.string().min(1).max(LIMITS.comment),
  errorClass: DeadLetterErrorClassSchema,
  /** The original value: as UTF-8 text when it decodes as such, else base64. */
  value: z.strictObject({
    encoding: z.enum(['utf8', 'base64']),
    data: z.string().max(4_000_000),
    sizeBytes: z.number().int().nonnegative(),
  }),
  headers: z.record(z.string().max(LIMITS.shortText), z.string().max(LIMITS.comment)).optional(),
  failedAt: TimestampSchema,
  attempts: z.number().int().min(1),
  consumerGroup: IdSchema,
});
export type DeadLetteredData = z.infer<typeof DeadLetteredDataSchema>;

export const MessagingDeadLettered = defineEvent('iga.messaging.dead-lettered', 1, TOPICS.deadLetter, DeadLetteredDataSchema);
