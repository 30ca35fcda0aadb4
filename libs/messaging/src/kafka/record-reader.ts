import { randomUUID } from 'node:crypto';
import type { LogRecord, RecordRef } from '../ports';
import type { KafkaAdmin } from './kafka-admin';
import type { KafkaConnections } from './kafka-connections';
import type { TopicNamespace } from './topic-namespace';

const refKey = (topic: string, partition: number, offset: string): string => `${topic}/${partition}/${offset}`;

/**
 * Reads records back by reference (logical topic, partition, offset): what a dead letter points at. A throw-away
 * group that never commits seeks each partition to the first offset asked for and reads until past the last;
 * offsets outside what the partition still holds are answered undefined without reading.
 */
export class KafkaRecordReader {
  constructor(
    private readonly connections: KafkaConnections,
    private readonly admin: KafkaAdmin,
    private readonly namespace: TopicNamespace,
    private readonly clientId: string,
  ) {}

  async read(refs: readonly RecordRef[], timeoutMs = 30_000): Promise<(LogRecord | undefined)[]> {
    const wanted = await this.readable(refs);
    const found = new Map<string, LogRecord>();
    if (wanted.size > 0) await this.fetch(wanted, found, timeoutMs);
    return refs.map((ref) => found.get(refKey(this.namespace.topic(ref.topic), ref.partition, ref.offset)));
  }

  /** Cluster topic → partition → the offsets asked for that the partition still holds. */
  private async readable(refs: readonly RecordRef[]): Promise<Map<string, Map<number, Set<bigint>>>> {
    const existing = new Set(await this.admin.listTopics());
    const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
    const wanted = new Map<string, Map<number, Set<bigint>>>();
    for (const ref of refs) {
      if (!existing.has(ref.topic) || !/^\d{1,19}$/.test(ref.offset)) continue;
      const topic = this.namespace.topic(ref.topic);
      let partitions = ends.get(topic);
      if (partitions === undefined) {
        partitions = new Map((await this.admin.partitionEnds(topic)).map(({ partition, low, high }) => [partition, { low, high }]));
        ends.set(topic, partitions);
      }
      const range = partitions.get(ref.partition);
      const offset = BigInt(ref.offset);
      if (range === undefined || offset < range.low || offset >= range.high) continue;
      const byPartition = wanted.get(topic) ?? new Map<number, Set<bigint>>();
      byPartition.set(ref.partition, (byPartition.get(ref.partition) ?? new Set<bigint>()).add(offset));
      wanted.set(topic, byPartition);
    }
    return wanted;
  }

  private async fetch(wanted: Map<string, Map<number, Set<bigint>>>, found: Map<string, LogRecord>, timeoutMs: number): Promise<void> {
    const last = new Map<string, bigint>();
    for (const [topic, partitions] of wanted) {
      for (const [partition, offsets] of partitions)
        last.set(
          `${topic}/${partition}`,
          [...offsets].reduce((a, b) => (a > b ? a : b)),
        );
    }
    const pending = new Set(last.keys());
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const passed = (topic: string, partition: number, offset: bigint): void => {
      const end = last.get(`${topic}/${partition}`);
      if (end !== undefined && offset >= end && pending.delete(`${topic}/${partition}`) && pending.size === 0) resolveDone();
    };

    const consumer = this.connections.consumer({ groupId: this.namespace.group(`read.${this.clientId}.${randomUUID()}`), maxWaitTimeInMs: 100 });
    let timer: NodeJS.Timeout | undefined;
    await consumer.connect();
    try {
      // Partitions not asked for start at their end (nothing to read); the others are moved by seek() below.
      await consumer.subscribe({ topics: [...wanted.keys()], fromBeginning: false });
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => passed(payload.topic, payload.partition, BigInt(payload.lastOffset)));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const offsets = wanted.get(batch.topic)?.get(batch.partition);
          if (offsets === undefined) return;
          for (const message of batch.messages) {
            if (!offsets.has(BigInt(message.offset))) continue;
            found.set(refKey(batch.topic, batch.partition, message.offset), {
              topic: this.namespace.logicalTopic(batch.topic),
              partition: batch.partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value,
              timestamp: new Date(Number(message.timestamp)).toISOString(),
            });
          }
        },
      });
      for (const [topic, partitions] of wanted) {
        for (const [partition, offsets] of partitions) consumer.seek({ topic, partition, offset: [...offsets].reduce((a, b) => (a < b ? a : b)).toString() });
      }
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`records not read within ${timeoutMs} ms: ${[...pending].join(', ')}`)), timeoutMs);
      });
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
    }
  }
}
