import type { KafkaMessage, Message } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import type { ConsumedRecord } from '../consumed-record';
import { encodeEnvelope } from '../consumed-record';
import { traceHeadersFor } from '../tracing';
import type { TopicNamespace } from './topic-namespace';

const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/** Envelopes as Kafka messages, keyed by subject (the aggregate) so one aggregate's events keep their order. */
export function toKafkaMessages(events: readonly Envelope[]): Message[] {
  return events.map((event) => {
    const { key, value, headers } = encodeEnvelope(event);
    return { key, value, headers: { ...headers, ...traceHeadersFor(event) } };
  });
}

export function fromKafkaMessage(namespace: TopicNamespace, clusterTopic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    origin: { topic: namespace.logicalTopic(clusterTopic), partition, offset: message.offset, key: message.key?.toString('utf8') ?? null },
    value: message.value,
    timestamp: message.timestamp,
    ...traceHeadersOf(message),
  };
}

function traceHeadersOf(message: KafkaMessage): { traceHeaders?: Record<string, string> } {
  const found: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = message.headers?.[name];
    const text = Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined;
    if (text !== undefined) found[name] = text;
  }
  return Object.keys(found).length === 0 ? {} : { traceHeaders: found };
}
