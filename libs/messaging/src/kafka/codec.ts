import type { KafkaMessage, Message } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import type { ConsumedRecord } from '../consumed-record';
import { encodeEnvelope } from '../consumed-record';
import type { TopicNamespace } from './topic-namespace';

/** Envelopes as Kafka messages, keyed by subject (the aggregate) so one aggregate's events keep their order. */
export function toKafkaMessages(events: readonly Envelope[]): Message[] {
  return events.map((event) => {
    const { key, value, headers } = encodeEnvelope(event);
    return { key, value, headers: { ...headers } };
  });
}

export function fromKafkaMessage(namespace: TopicNamespace, clusterTopic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    origin: { topic: namespace.logicalTopic(clusterTopic), partition, offset: message.offset, key: message.key?.toString('utf8') ?? null },
    value: message.value,
    timestamp: message.timestamp,
  };
}
