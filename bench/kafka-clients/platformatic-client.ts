import { randomUUID } from 'node:crypto';
import { Admin, Consumer, FetchIsolationLevels, ProduceAcks, Producer, stringDeserializer, stringSerializer } from '@platformatic/kafka';
import type { Message, MessagesStream, RetryDelayGetter, SASLOptions } from '@platformatic/kafka';
import { RETRY } from './kafkajs-client';
import { retryWhileLeadersSettle, saslLogin, sequenceOf, until, waitUntil } from './raw-client';
import type { BenchRecord, Meter, RawClient } from './raw-client';

type BenchMessage = Message<string, Buffer, Buffer, Buffer>;

/**
 * @platformatic/kafka (pure JavaScript, no native addon) with the settings the services would need: idempotent
 * producers with acks=all, consumers reading committed data only, offsets committed by the caller or a transaction,
 * and libs/messaging's retry back-off. Everything else is the client's default: notably up to 5 requests in flight per
 * connection (Kafka keeps an idempotent producer's order with up to 5; kafkajs allows only 1 for idempotence).
 */
export class PlatformaticClient implements RawClient {
  readonly name = '@platformatic/kafka';
  private readonly base: { clientId: string; bootstrapBrokers: string[]; retries: number; retryDelay: RetryDelayGetter; sasl?: SASLOptions };
  private admin: Admin | undefined;

  constructor(brokers: readonly string[]) {
    const login = saslLogin();
    this.base = {
      clientId: `bench-platformatic-${randomUUID()}`,
      bootstrapBrokers: [...brokers],
      // kafkajs's retry policy as libs/messaging sets it (bench/kafka-clients/kafkajs-client.ts RETRY); the default here
      // waits 1 s before each retry, which is what CONCURRENT_TRANSACTIONS after every commit would then cost.
      retries: RETRY.retries,
      retryDelay: (_client: unknown, _operation: string, attempt: number) =>
        Math.min(RETRY.maxRetryTime, RETRY.initialRetryTime * 2 ** Math.max(0, attempt - 1)),
      ...(login === undefined ? {} : { sasl: { mechanism: 'SCRAM-SHA-512', username: login.username, password: login.password } }),
    };
  }

  private adminClient(): Admin {
    this.admin ??= new Admin({ ...this.base });
    return this.admin;
  }

  async createTopics(topics: readonly string[]): Promise<void> {
    const admin = this.adminClient();
    await admin.createTopics({ topics: [...topics], partitions: 3, replicas: 1 });
    await retryWhileLeadersSettle(async () => {
      const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
      for (const topic of topics) {
        const partitions = metadata.topics.get(topic)?.partitions ?? [];
        if (partitions.length !== 3 || partitions.some((p) => p.leader < 0)) throw new Error(`${topic} has no leaders yet`);
      }
    });
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.adminClient()
      .deleteTopics({ topics: [...topics] })
      .catch(() => undefined);
  }

  private producer(transactionalId?: string): Producer<string, Buffer> {
    return new Producer<string, Buffer>({
      ...this.base,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: { key: stringSerializer },
      ...(transactionalId === undefined ? {} : { transactionalId }),
    });
  }

  private async stream(
    groupId: string,
    topic: string,
  ): Promise<{ consumer: Consumer<string, Buffer>; stream: MessagesStream<string, Buffer, Buffer, Buffer> }> {
    const consumer = new Consumer<string, Buffer>({
      ...this.base,
      groupId,
      maxWaitTime: 100,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      deserializers: { key: stringDeserializer },
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    return { consumer, stream };
  }

  async produce(topic: string, records: readonly BenchRecord[], batchSize: number, meter: Meter): Promise<void> {
    const producer = this.producer();
    try {
      await producer.initIdempotentProducer({});
      meter.start();
      for (let i = 0; i < records.length; i += batchSize) {
        await producer.send({ messages: records.slice(i, i + batchSize).map((r) => ({ topic, key: r.key, value: r.value })) });
      }
      meter.stop();
    } finally {
      await producer.close();
    }
  }

  async consume(topic: string, count: number, meter: Meter): Promise<void> {
    meter.start();
    const consumer = new Consumer<string, Buffer>({
      ...this.base,
      groupId: `bench-platformatic-${randomUUID()}`,
      maxWaitTime: 100,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      deserializers: { key: stringDeserializer },
    });
    // B1's consume phase starts its clock before the group join; kafkajs commits after every batch by default, and
    // `autocommit: true` does the same here (after every fetch).
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: true });
    try {
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        stream.on('data', (message: BenchMessage) => {
          if (message.value) seen += 1;
          if (seen >= count) resolve();
        });
      });
      meter.stop();
    } finally {
      await stream.close();
      await consumer.close(true);
    }
  }

  async latency(topic: string, records: readonly BenchRecord[], ratePerSec: number, meter: Meter): Promise<number[]> {
    const producer = this.producer();
    const { consumer, stream } = await this.stream(`bench-platformatic-${randomUUID()}`, topic);
    const arrivedAt = new Map<number, number>();
    try {
      stream.on('data', (message: BenchMessage) => arrivedAt.set(sequenceOf(message.key), performance.now()));
      // A probe (sequence -1) proves the group has joined and fetches before the clock starts.
      await producer.send({ messages: [{ topic, key: '-1:probe', value: Buffer.from('probe') }] });
      await until(() => arrivedAt.has(-1), 'the @platformatic/kafka latency consumer to receive its probe');
      const interval = 1000 / ratePerSec;
      const plannedAt: number[] = [];
      const sends: Promise<unknown>[] = [];
      meter.start();
      const t0 = performance.now() + 10;
      for (const [i, record] of records.entries()) {
        const at = t0 + i * interval;
        plannedAt.push(at);
        await waitUntil(at);
        sends.push(producer.send({ messages: [{ topic, key: record.key, value: record.value }] }));
      }
      await Promise.all(sends);
      await until(() => arrivedAt.size > records.length, 'every latency record to arrive (@platformatic/kafka)');
      meter.stop();
      return records.map((record, i) => (arrivedAt.get(sequenceOf(record.key)) as number) - (plannedAt[i] as number));
    } finally {
      await stream.close();
      await consumer.close(true);
      await producer.close();
    }
  }

  async transactionalLoop(input: string, output: string, count: number, perTransaction: number, meter: Meter): Promise<void> {
    // The first beginTransaction() initialises the producer id for its transactional id (kafkajs does it in connect()).
    const producer = this.producer(`bench-platformatic-tx-${randomUUID()}`);
    const { consumer, stream } = await this.stream(`bench-platformatic-tx-${randomUUID()}`, input);
    const pending = new Map<number, BenchMessage[]>();
    let done = 0;
    let started = false;
    const commit = async (chunk: readonly BenchMessage[]): Promise<void> => {
      const last = chunk[chunk.length - 1];
      if (!last) return;
      const transaction = await producer.beginTransaction();
      try {
        await transaction.addConsumer(consumer);
        await transaction.send({ messages: chunk.map((m) => ({ topic: output, key: m.key, value: m.value })) });
        await transaction.addOffset(last);
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      done += chunk.length;
    };
    try {
      // The async iterator stops fetching ahead while a transaction is open (stream back-pressure), like kafkajs's eachBatch.
      for await (const message of stream as AsyncIterable<BenchMessage>) {
        // The loop's clock starts at the first record read: the group join is not the loop's work.
        if (!started) {
          started = true;
          meter.start();
        }
        const chunk = pending.get(message.partition) ?? [];
        chunk.push(message);
        pending.set(message.partition, chunk);
        if (chunk.length >= perTransaction) {
          pending.delete(message.partition);
          await commit(chunk);
        }
        if (done + [...pending.values()].reduce((n, c) => n + c.length, 0) >= count) {
          for (const rest of pending.values()) await commit(rest);
          break;
        }
      }
      meter.stop();
      await until(() => done >= count, 'the @platformatic/kafka transactional loop to finish');
    } finally {
      await stream.close().catch(() => undefined);
      await consumer.close(true);
      await producer.close();
    }
  }

  async close(): Promise<void> {
    await this.admin?.close();
  }
}
