import { ContractViolationError, UnknownEventTypeError } from '@grantline/contracts';
import type { DeadLetterErrorClass, Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from './event-id';

export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
}

export interface DeadLetterInput {
  readonly origin: DeadLetterOrigin;
  readonly consumerGroup: string;
  readonly reason: string;
  readonly errorClass: DeadLetterErrorClass;
  readonly attempts: number;
  readonly value: Buffer | null;
  readonly failedAt: Date;
  /** The decoded event, when the failure happened after decoding. */
  readonly event?: Envelope;
  readonly source: string;
}

export const DEAD_LETTERED_EVENT = 'iga.messaging.dead-lettered';

function encodeOriginal(value: Buffer | null): { encoding: 'utf8' | 'base64'; data: string; sizeBytes: number } {
  if (!value) return { encoding: 'utf8', data: '', sizeBytes: 0 };
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value)
    ? { encoding: 'utf8', data: text, sizeBytes: value.length }
    : { encoding: 'base64', data: value.toString('base64'), sizeBytes: value.length };
}

/** Why a message could not be decoded, in the dead-letter vocabulary. */
export function decodeFailureClass(error: unknown): DeadLetterErrorClass {
  return error instanceof UnknownEventTypeError ? 'unknown_type' : 'schema_invalid';
}

export function isContractFailure(error: unknown): boolean {
  return error instanceof ContractViolationError || error instanceof UnknownEventTypeError || error instanceof SyntaxError;
}

/**
 * The dead-letter record says where the message came from, why it failed and how often it was
 * tried, and carries the original bytes so an operator can fix and re-drive it. Its id is derived
 * from the origin, so dead-lettering the same record twice yields one record.
 */
export function buildDeadLetter(registry: EventRegistry, input: DeadLetterInput): Envelope {
  const def = registry.latestOf(DEAD_LETTERED_EVENT);
  const { origin } = input;
  return registry.encode(
    def,
    {
      origin: { topic: origin.topic, partition: origin.partition, offset: origin.offset, key: origin.key },
      consumerGroup: input.consumerGroup,
      reason: input.reason.slice(0, 2000),
      errorClass: input.errorClass,
      attempts: input.attempts,
      failedAt: input.failedAt.toISOString(),
      value: encodeOriginal(input.value),
    },
    {
      id: deterministicEventId('dead-letter', input.consumerGroup, origin.topic, String(origin.partition), origin.offset),
      source: input.source,
      time: input.failedAt.toISOString(),
      subject: origin.key ?? `${origin.topic}/${origin.partition}/${origin.offset}`,
      correlationid: input.event?.correlationid ?? `${origin.topic}/${origin.partition}/${origin.offset}`,
      ...(input.event ? { causationid: input.event.id } : {}),
      actor: { kind: 'system', id: input.source },
    },
  );
}
