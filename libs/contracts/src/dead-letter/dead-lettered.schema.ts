import { z } from 'zod';
import { IdSchema, LIMITS, Sha256HexSchema, TimestampSchema } from '../common/primitives.schema';
import { sha256Hex } from '../common/sha256';
import { EVENT_TYPE_PATTERN } from '../envelope/envelope.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';
import { claimedEvent, withoutJsonSnippet, withoutValues } from './dead-letter-reference';

export const DeadLetterErrorClassSchema = z.enum(['schema_invalid', 'unknown_type', 'terminal', 'retries_exhausted']);
export type DeadLetterErrorClass = z.infer<typeof DeadLetterErrorClassSchema>;

/**
 * v1: released, frozen. A poison message, kept whole so it can be inspected and replayed. The dead-letter topic is
 * configured with a larger max.message.bytes than the others, because the original value plus this wrapper may
 * exceed 1 MB. Superseded by v2, which keeps a reference instead of the copy: the copy could carry the very secret
 * the message was refused for.
 */
export const DeadLetteredV1DataSchema = z.strictObject({
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
export type DeadLetteredV1Data = z.infer<typeof DeadLetteredV1DataSchema>;

/** Where the original record still is: enough to read it back from the log, nothing of its content. */
export const RecordReferenceSchema = z.strictObject({
  /** The logical (catalogue) topic name: never the namespace's cluster name. */
  topic: z.string().min(1).max(249),
  partition: z.number().int().nonnegative(),
  /** Kafka offsets are 64-bit: kept as a decimal string. */
  offset: z.string().regex(/^\d{1,19}$/),
  key: z.string().max(LIMITS.shortText).nullable(),
  /** The record's timestamp on the log; absent for records dead-lettered before v2. */
  timestamp: TimestampSchema.optional(),
});
export type RecordReference = z.infer<typeof RecordReferenceSchema>;

/** One field that broke the contract: its dotted path and zod's reason. Never its value. */
export const DeadLetterIssueSchema = z.strictObject({
  path: z.string().max(LIMITS.shortText),
  message: z.string().min(1).max(LIMITS.shortText),
});
export type DeadLetterIssue = z.infer<typeof DeadLetterIssueSchema>;
export const MAX_DEAD_LETTER_ISSUES = 50;

/**
 * v2: a poison message by reference. The record stays where it is on the log; the dead letter says where (topic,
 * partition, offset, key, timestamp), what it claimed to be (event id and type, when well-formed), why it was
 * refused (the reason and each bad field with zod's message) and the SHA-256 of its bytes, so whoever reads it back
 * knows it is the same record. Never the bytes, never a field's value: a secret may be why it was refused.
 */
export const DeadLetteredV2DataSchema = z.strictObject({
  origin: RecordReferenceSchema,
  event: z.strictObject({ id: IdSchema.optional(), type: z.string().regex(EVENT_TYPE_PATTERN).optional() }).optional(),
  original: z.strictObject({ sha256: Sha256HexSchema, sizeBytes: z.number().int().nonnegative() }),
  reason: z.string().min(1).max(LIMITS.comment),
  /** Empty when the value is not JSON (nothing has a path) and for records dead-lettered before v2. */
  issues: z.array(DeadLetterIssueSchema).max(MAX_DEAD_LETTER_ISSUES),
  errorClass: DeadLetterErrorClassSchema,
  failedAt: TimestampSchema,
  attempts: z.number().int().min(1),
  consumerGroup: IdSchema,
});
export type DeadLetteredV2Data = z.infer<typeof DeadLetteredV2DataSchema>;

export const MessagingDeadLetteredV1 = defineEvent('iga.messaging.dead-lettered', 1, TOPICS.deadLetter, DeadLetteredV1DataSchema);
export const MessagingDeadLetteredV2 = defineEvent('iga.messaging.dead-lettered', 2, TOPICS.deadLetter, DeadLetteredV2DataSchema);
/** The current version: what the messaging lib writes. */
export const MessagingDeadLettered = MessagingDeadLetteredV2;
export const DeadLetteredDataSchema = DeadLetteredV2DataSchema;
export type DeadLetteredData = DeadLetteredV2Data;

function originalBytes(value: DeadLetteredV1Data['value']): Uint8Array {
  if (value.encoding === 'utf8') return new TextEncoder().encode(value.data);
  return Uint8Array.from(atob(value.data), (char) => char.charCodeAt(0));
}

function parsedOrUndefined(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * v1 → v2: the copy becomes its digest (of the very bytes v1 kept: text that round-trips as UTF-8, else base64)
 * plus the id and type it claimed; the reason loses any quoted JSON and value. The bytes are dropped: consumers read
 * the original by reference. v1 carried no record timestamp and no structured issues.
 */
export function upcastDeadLetteredV1ToV2(previous: unknown): DeadLetteredV2Data {
  const v1 = DeadLetteredV1DataSchema.parse(previous);
  const bytes = originalBytes(v1.value);
  const raw = parsedOrUndefined(bytes);
  const claimed = claimedEvent(raw);
  return {
    origin: v1.origin,
    ...(claimed === undefined ? {} : { event: claimed }),
    original: { sha256: sha256Hex(bytes), sizeBytes: bytes.length },
    reason: withoutValues(withoutJsonSnippet(v1.reason), raw),
    issues: [],
    errorClass: v1.errorClass,
    failedAt: v1.failedAt,
    attempts: v1.attempts,
    consumerGroup: v1.consumerGroup,
  };
}
