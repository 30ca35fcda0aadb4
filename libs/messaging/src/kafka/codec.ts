import type { KafkaMessage, Message } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import type { DeadLetterOrigin } from '../dead-letter';
import type { TopicNamespace } from './topic-namespace';

/** CloudEvents structured mode: the whole envelope is the value; the headers repeat what routing needs. */
const HEADER_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** Envelopes as Kafka messages, keyed by subject (the aggregate) so one aggregate's events keep their order. */
export function toKafkaMessages(events: readonly Envelope[]): Message[] {
  return events.map((event) => ({
    key: event.subject,
    value: JSON.stringify(event),
    headers: { 'content-type': HEADER_CONTENT_TYPE, ce_id: event.id, ce_type: event.type },
  }));
}

/** A consumed record as the message handler sees it: where it came from (logical names) and its bytes. */
export interface ConsumedRecord {
  readonly origin: DeadLetterOrigin;
  readonly value: Buffer | null;
  /** The record's timestamp on the log (ms since the epoch, as Kafka gives it), when the transport has one. */
  readonly timestamp?: string;
}

export function fromKafkaMessage(namespace: TopicNamespace, clusterTopic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    origin: { topic: namespace.logicalTopic(clusterTopic), partition, offset: message.offset, key: message.key?.toString('utf8') ?? null },
    value: message.value,
    timestamp: message.timestamp,
  };
}

/** The record's JSON; throws SyntaxError for bytes that are not JSON (an empty or null value included). */
export function parseRecordValue(value: Buffer | null): unknown {
  return JSON.parse(value?.toString('utf8') ?? '');
}
