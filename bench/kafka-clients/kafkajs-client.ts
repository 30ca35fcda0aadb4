import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { retryWhileLeadersSettle, saslLogin, sequenceOf, until, waitUntil } from './raw-client';
import type { BenchRecord, Meter, RawClient } from './raw-client';

/**
 * Right after a commit the coordinator still writes the previous transaction's markers and answers AddOffsetsToTxn
 * with CONCURRENT_TRANSACTIONS; kafkajs does not retry that inside sendOffsets() (libs/messaging's
 * transaction-retry.ts does the same, and is not part of the lib's public API).
 */
async function whileTransactionsSettle<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if ((error as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 10 * 2 ** (attempt - 1))));
    }
  }
}

/** libs/messaging's retry policy; the candidates get the same back-off (first 100 ms, doubling, at most 2 s). */
export const RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } as const;

/** kafkajs 2 as libs/messaging configures it: idempotent producers with one request in flight, acks=all. */
export class KafkajsClient implements RawClient {
  readonly name = 'kafkajs';
  private readonly kafka: Kafka;
  private admin: Admin | undefined;

  constructor(private readonly brokers: readonly string[]) {
    const login = saslLogin();
    this.kafka = new Kafka({
      clientId: `bench-kafkajs-${randomUUID()}`,
      brokers: [...this.brokers],
      logLevel: logLevel.NOTHING,
      // libs/messaging's client settings (kafka-connections.ts): its retry back-off paces back-to-back transactions.
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: RETRY,
      ...(login === undefined ? {} : { sasl: { mechanism: 'scram-sha-512' as const, username: login.username, password: login.password } }),
    });
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  async createTopics(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    await retryWhileLeadersSettle(async () => {
      await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 3 })) });
      for (const topic of topics) await admin.fetchTopicOffsets(topic);
    });
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    await admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
  }

  private async producer(transactionalId?: string): Promise<Producer> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, ...(transactionalId === undefined ? {} : { transactionalId }) });
    await producer.connect();
    return producer;
  }

  private consumer(groupId: string): Consumer {
    return this.kafka.consumer({ groupId, maxWaitTimeInMs: 100, readUncommitted: false });
  }

  async produce(topic: string, records: readonly BenchRecord[], batchSize: number, meter: Meter): Promise<void> {
    const producer = await this.producer();
    try {
      meter.start();
      for (let i = 0; i < records.length; i += batchSize) {
        await producer.send({ topic, acks: -1, messages: records.slice(i, i + batchSize).map((r) => ({ key: r.key, value: r.value })) });
      }
      meter.stop();
    } finally {
      await producer.disconnect();
    }
  }

  async consume(topic: string, count: number, meter: Meter): Promise<void> {
    const consumer = this.consumer(`bench-kafkajs-${randomUUID()}`);
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      meter.start();
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) if (message.value) seen += 1;
              if (seen >= count) resolve();
            },
          })
          .catch(reject);
      });
      meter.stop();
    } finally {
      await consumer.disconnect();
    }
  }

  async latency(topic: string, records: readonly BenchRecord[], ratePerSec: number, meter: Meter): Promise<number[]> {
    const producer = await this.producer();
    const consumer = this.consumer(`bench-kafkajs-${randomUUID()}`);
    const arrivedAt = new Map<number, number>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      // No commits here (the candidate's latency consumer does not commit either): arrivals only.
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const now = performance.now();
          for (const message of batch.messages) arrivedAt.set(sequenceOf(message.key?.toString() ?? ''), now);
        },
      });
      // A probe (sequence -1) proves the group has joined and fetches before the clock starts.
      await producer.send({ topic, acks: -1, messages: [{ key: '-1:probe', value: Buffer.from('probe') }] });
      await until(() => arrivedAt.has(-1), 'the kafkajs latency consumer to receive its probe');
      const interval = 1000 / ratePerSec;
      const plannedAt: number[] = [];
      const sends: Promise<unknown>[] = [];
      meter.start();
      const t0 = performance.now() + 10;
      for (const [i, record] of records.entries()) {
        const at = t0 + i * interval;
        plannedAt.push(at);
        await waitUntil(at);
        sends.push(producer.send({ topic, acks: -1, messages: [{ key: record.key, value: record.value }] }));
      }
      await Promise.all(sends);
      await until(() => arrivedAt.size > records.length, 'every latency record to arrive (kafkajs)');
      meter.stop();
      return records.map((record, i) => (arrivedAt.get(sequenceOf(record.key)) as number) - (plannedAt[i] as number));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }

  async transactionalLoop(input: string, output: string, count: number, perTransaction: number, meter: Meter): Promise<void> {
    const groupId = `bench-kafkajs-tx-${randomUUID()}`;
    const producer = await this.producer(`bench-kafkajs-tx-${randomUUID()}`);
    const consumer = this.consumer(groupId);
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: input, fromBeginning: true });
      let done = 0;
      let started = false;
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
              // The loop's clock starts at the first record read: the group join is not the loop's work.
              if (!started) {
                started = true;
                meter.start();
              }
              for (let i = 0; i < batch.messages.length; i += perTransaction) {
                const chunk = batch.messages.slice(i, i + perTransaction);
                const last = chunk[chunk.length - 1];
                if (!last) continue;
                const transaction = await producer.transaction();
                try {
                  await transaction.send({ topic: output, acks: -1, messages: chunk.map((m) => ({ key: m.key, value: m.value })) });
                  const offsets = {
                    consumerGroupId: groupId,
                    topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
                  };
                  await whileTransactionsSettle(() => transaction.sendOffsets(offsets));
                  await transaction.commit();
                } catch (error) {
                  await transaction.abort().catch(() => undefined);
                  throw error;
                }
                resolveOffset(last.offset);
                await heartbeat();
                done += chunk.length;
              }
              if (done >= count) resolve();
            },
          })
          .catch(reject);
      });
      meter.stop();
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
  }
}
