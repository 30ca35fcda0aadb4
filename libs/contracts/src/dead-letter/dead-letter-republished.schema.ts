import { z } from 'zod';
import { IdSchema, Sha256HexSchema, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { EVENT_TYPE_PATTERN } from '../envelope/envelope.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';
import { RecordReferenceSchema } from './dead-lettered.schema';

/**
 * An operator re-drove a dead-lettered record (`grantline dlq redrive`): once the code knew how to read it, the
 * original was read back by reference, validated against the current registry and published again to its topic
 * with its own event id (so consumers that already have it drop the copy). Settles every dead letter of that origin
 * (one per consumer group that refused it): they are not re-driven twice and `dlq list` no longer shows them.
 */
export const DeadLetterRepublishedDataSchema = z.strictObject({
  /** The dead letters this settles, all of the same origin. */
  deadLetterIds: idListSchema({ min: 1 }),
  origin: RecordReferenceSchema,
  /** The event published again: the original's id and type, unchanged. */
  event: z.strictObject({ id: IdSchema, type: z.string().regex(EVENT_TYPE_PATTERN) }),
  /** SHA-256 of the original bytes that were read back (the digest the dead letters recorded). */
  originalSha256: Sha256HexSchema,
  republishedAt: TimestampSchema,
});
export type DeadLetterRepublishedData = z.infer<typeof DeadLetterRepublishedDataSchema>;

export const MessagingDeadLetterRepublished = defineEvent('iga.messaging.dead-letter-republished', 1, TOPICS.deadLetter, DeadLetterRepublishedDataSchema);
