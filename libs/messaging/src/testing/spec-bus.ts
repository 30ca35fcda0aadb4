/**
 * Helpers of the broker specs: each spec gets its own topics (the caller passes unique names: specs take them from
 * the testing lib, which this non-spec file may not import), reads what landed on a topic through the bus's own
 * replay, and looks at committed offsets and raw records the way an operator would.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Producer } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus } from '../kafka/kafka-bus';
import { silentLogger } from '../logger';
import { testRegistry } from './test-events';
import { kafkajsSaslFromEnv } from '../kafka/kafka-sasl';

export interface SpecBusOptions {
  readonly brokers: readonly string[];
  /** Unique per spec: the input topic; `.out` and `.dlq` topics are derived from it. */
  readonly topic: string;
  readonly clientId: string;
  readonly partitions?: number;
}

/** A bus on its own topics (input, output, dead letters) with the spec events registered. */
export function specBus({ brokers, topic, clientId, partitions = 3 }: SpecBusOptions) {
  const outTopic = `${topic}.out`;
  const deadLetterTopic = `${topic}.dlq`;
  const events = testRegistry(topic, outTopic);
  const bus = new KafkaMessageBus({ clientId, brokers, registry: events.registry, logger: silentLogger });
  const ready = bus.ensureTopics([
    { topic, partitions },
    { topic: outTopic, partitions },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  return { topic, outTopic, deadLetterTopic, bus, ready, ...events };
}

/** Reads every record of a topic (as parsed envelopes) through the bus's own replay. */
export async function readAll(bus: KafkaMessageBus, topic: string): Promise<Envelope[]> {
  const seen: Envelope[] = [];
  await bus.replay({ topics: [topic], handler: async (event) => void seen.push(event) });
  return seen;
}

/** Writes records as given (any bytes, any partition), as a foreign or newer producer would. */
export async function withRawProducer<T>(brokers: readonly string[], work: (producer: Producer) => Promise<T>): Promise<T> {
  const producer = new Kafka({ clientId: `raw-${randomUUID()}`, brokers: [...brokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).producer();
  await producer.connect();
  try {
    return await work(producer);
  } finally {
    await producer.disconnect();
  }
}

/** The group's committed offset per partition of a cluster topic (-1: nothing committed). */
export async function committedOffsets(brokers: readonly string[], clusterGroupId: string, clusterTopic: string): Promise<Map<number, string>> {
  const admin = new Kafka({ clientId: `offsets-${randomUUID()}`, brokers: [...brokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: clusterGroupId, topics: [clusterTopic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}
