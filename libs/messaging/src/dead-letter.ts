import { createHash } from 'node:crypto';
import {
  ContractViolationError,
  LIMITS,
  MAX_DEAD_LETTER_ISSUES,
  UnknownEventTypeError,
  claimedEvent,
  withoutJsonSnippet,
  withoutValues,
} from '@grantline/contracts';
import type { DeadLetterErrorClass, DeadLetterIssue, Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from './event-id';

export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
}

export interface DeadLetterInput {
  readonly origin: DeadLetterOrigin;
  /** The record's timestamp on the log (Kafka's, in ms since the epoch), when known. */
  readonly timestamp?: string;
  readonly consumerGroup: string;
  readonly reason: string;
  readonly errorClass: DeadLetterErrorClass;
  readonly attempts: number;
  /** The original bytes: only digested, never copied into the dead letter. */
  readonly value: Buffer | null;
  /** Why it was refused: a ContractViolationError's issues become the dead letter's issues. */
  readonly error?: unknown;
  /** The parsed JSON, when the bytes were JSON: its values are scrubbed from every message, its id/type claimed. */
  readonly raw?: unknown;
  readonly failedAt: Date;
  /** The decoded event, when the failure happened after decoding. */
  readonly event?: Envelope;
  readonly source: string;
}

export const DEAD_LETTERED_EVENT = 'iga.messaging.dead-lettered';

/** Why a message could not be decoded, in the dead-letter vocabulary. */
export function decodeFailureClass(error: unknown): DeadLetterErrorClass {
  return error instanceof UnknownEventTypeError ? 'unknown_type' : 'schema_invalid';
}

export function isContractFailure(error: unknown): boolean {
  return error instanceof ContractViolationError || error instanceof UnknownEventTypeError || error instanceof SyntaxError;
}

/** SHA-256 of a record's value (a null value digests as empty). */
export function digestOf(value: Buffer | null): string {
  return createHash('sha256')
    .update(value ?? Buffer.alloc(0))
    .digest('hex');
}

const bounded = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A refusal's reason without the record's bytes or values: fit to be logged and kept. */
export function safeReason(reason: string, raw?: unknown): string {
  return bounded(withoutValues(withoutJsonSnippet(reason), raw), LIMITS.comment) || 'undecodable message';
}

/** Each bad field of a contract violation: its path and zod's message, scrubbed of the record's values. */
export function deadLetterIssues(error: unknown, raw?: unknown): DeadLetterIssue[] {
  if (!(error instanceof ContractViolationError)) return [];
  return error.issues.slice(0, MAX_DEAD_LETTER_ISSUES).map((issue) => ({
    path: bounded(issue.path, LIMITS.shortText),
    message: bounded(withoutValues(issue.message, raw), LIMITS.shortText) || 'invalid',
  }));
}

function isoTimestamp(timestamp: string | undefined): string | undefined {
  const ms = timestamp === undefined ? Number.NaN : Number(timestamp);
  return Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : undefined;
}

/**
 * The dead-letter record says where the message is (a reference: topic, partition, offset, key, timestamp), what it
 * claimed to be, why it failed (each bad field with zod's reason) and how often it was tried, with the SHA-256 of
 * its bytes — never the bytes nor any value: a secret may be why it was refused. An operator reads the original
 * back by reference to fix and re-drive it (`grantline dlq`). Its id is derived from the origin, so dead-lettering
 * the same record twice yields one record.
 */
export function buildDeadLetter(registry: EventRegistry, input: DeadLetterInput): Envelope {
  const def = registry.latestOf(DEAD_LETTERED_EVENT);
  const { origin } = input;
  const timestamp = isoTimestamp(input.timestamp);
  const claimed = claimedEvent(input.raw);
  return registry.encode(
    def,
    {
      origin: { topic: origin.topic, partition: origin.partition, offset: origin.offset, key: origin.key, ...(timestamp === undefined ? {} : { timestamp }) },
      ...(claimed === undefined ? {} : { event: claimed }),
      original: { sha256: digestOf(input.value), sizeBytes: input.value?.length ?? 0 },
      reason: safeReason(input.reason, input.raw),
      issues: deadLetterIssues(input.error, input.raw),
      errorClass: input.errorClass,
      attempts: input.attempts,
      failedAt: input.failedAt.toISOString(),
      consumerGroup: input.consumerGroup,
    },
    {
      id: deterministicEventId('dead-letter', input.consumerGroup, origin.topic, String(origin.partition), origin.offset),
      source: input.source,
      time: input.failedAt.toISOString(),
      subject: origin.key || `${origin.topic}/${origin.partition}/${origin.offset}`,
      correlationid: input.event?.correlationid ?? `${origin.topic}/${origin.partition}/${origin.offset}`,
      ...(input.event ? { causationid: input.event.id } : {}),
      actor: { kind: 'system', id: input.source },
    },
  );
}
