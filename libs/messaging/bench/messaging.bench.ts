/**
 * B1: raw kafkajs vs libs/messaging on the same broker, in the same run.
 *  - baseline: idempotent acks=all producer sending batches, a consumer group reading them back;
 *  - candidate: the same bytes through KafkaMessageBus (publisher + consumer runner that decodes,
 *    validates against the contracts and commits after the handler).
 * Prints events/s for each phase, the ratios, and one closing line of JSON.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus } from '../src/kafka/kafka-bus';
import { kafkajsSaslFromEnv } from '../src/kafka/kafka-sasl';
import { silentLogger } from '../src/logger';
import { testRegistry } from '../src/testing/test-events';

export interface MessagingBenchOptions {
  readonly brokers: readonly string[];
  readonly events?: number;
  readonly batchSize?: number;
  readonly eventBytes?: number;
}

interface PhaseRates {
  produce: number;
  consume: number;
  endToEnd: number;
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

function buildEvents(topic: string, count: number, eventBytes: number): { events: Envelope[]; bytes: number } {
  const { ping } = testRegistry(topic, `${topic}.out`);
  const events: Envelope[] = [];
  for (let seq = 0; seq < count; seq += 1) {
    const draft = ping({ key: `key-${seq % 64}`, seq, note: '' }, `bench-${seq}`);
    const padding = Math.max(0, eventBytes - JSON.stringify(draft).length);
    events.push({ ...draft, data: { ...(draft.data as object), note: 'x'.repeat(padding) } });
  }
  return { events, bytes: JSON.stringify(events[0]).length };
}

async function rawKafkajs(brokers: readonly string[], topic: string, events: readonly Envelope[], batchSize: number): Promise<PhaseRates> {
  const kafka = new Kafka({ clientId: `bench-raw-${randomUUID()}`, brokers: [...brokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() });
  const admin = kafka.admin();
  await admin.connect();
  // A broker that has just started answers "does not host this topic-partition" for a moment after creating a
  // topic, before its leaders serve (the messaging lib's ensureTopics waits the same way). Not measured.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
      await admin.fetchTopicOffsets(topic);
      break;
    } catch (error) {
      if (attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values = events.map((event) => ({ key: event.subject, value: JSON.stringify(event) }));
  const t0 = performance.now();
  for (let i = 0; i < values.length; i += batchSize) {
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + batchSize) });
  }
  const t1 = performance.now();
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  const t2 = performance.now();
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) if (message.value) seen += 1;
          if (seen >= values.length) resolve();
        },
      })
      .catch(reject);
  });
  const t3 = performance.now();
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { produce: rate(values.length, t1 - t0), consume: rate(values.length, t3 - t2), endToEnd: rate(values.length, t1 - t0 + (t3 - t2)) };
}

async function throughMessaging(brokers: readonly string[], topic: string, events: readonly Envelope[], batchSize: number): Promise<PhaseRates> {
  const { registry } = testRegistry(topic, `${topic}.out`);
  const bus = new KafkaMessageBus({ clientId: `bench-lib-${randomUUID()}`, brokers, registry, logger: silentLogger });
  await bus.ensureTopics([{ topic, partitions: 3 }]);
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batchSize) await bus.publish(topic, events.slice(i, i + batchSize));
  const t1 = performance.now();
  let seen = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const t2 = performance.now();
  const consumer = await bus.consume({
    groupId: `bench-lib-${randomUUID()}`,
    topics: [topic],
    partitionsConsumedConcurrently: 3,
    handler: async () => {
      seen += 1;
      if (seen >= events.length) resolveAll();
    },
  });
  await all;
  const t3 = performance.now();
  await consumer.stop();
  await bus.disconnect();
  return { produce: rate(events.length, t1 - t0), consume: rate(events.length, t3 - t2), endToEnd: rate(events.length, t1 - t0 + (t3 - t2)) };
}

export async function runMessagingBench(options: MessagingBenchOptions): Promise<Record<string, unknown>> {
  const count = options.events ?? 20_000;
  const batchSize = options.batchSize ?? 500;
  const run = randomUUID().slice(0, 8);
  const { events, bytes } = buildEvents(`bench.${run}.lib`, count, options.eventBytes ?? 512);
  // Warm-up both paths once (connections, JIT), then measure.
  await rawKafkajs(options.brokers, `bench.${run}.warm-raw`, events.slice(0, 1000), batchSize);
  await throughMessaging(options.brokers, `bench.${run}.warm-lib`, events.slice(0, 1000), batchSize);
  const raw = await rawKafkajs(options.brokers, `bench.${run}.raw`, events, batchSize);
  const lib = await throughMessaging(options.brokers, `bench.${run}.lib`, events, batchSize);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const result = {
    bench: 'messaging-b1',
    events: count,
    eventBytes: bytes,
    batchSize,
    raw,
    messaging: lib,
    ratio: { produce: ratio(lib.produce, raw.produce), consume: ratio(lib.consume, raw.consume), endToEnd: ratio(lib.endToEnd, raw.endToEnd) },
    goal: { endToEndRatioAtLeast: 0.7 },
  };
  const row = (name: string, r: PhaseRates) =>
    `${name.padEnd(22)} ${String(r.produce).padStart(10)} ${String(r.consume).padStart(10)} ${String(r.endToEnd).padStart(12)}`;
  process.stdout.write(
    [
      `B1 messaging: ${count} events of ${bytes} bytes, batches of ${batchSize}, acks=all, idempotent`,
      `${'path'.padEnd(22)} ${'produce/s'.padStart(10)} ${'consume/s'.padStart(10)} ${'end-to-end/s'.padStart(12)}`,
      row('raw kafkajs', raw),
      row('libs/messaging', lib),
      `ratio messaging/raw: produce ${result.ratio.produce}, consume ${result.ratio.consume}, end-to-end ${result.ratio.endToEnd} (goal >= 0.7)`,
      JSON.stringify(result),
      '',
    ].join('\n'),
  );
  return result;
}
