import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { parseRecordValue } from '../consumed-record';
import type { BatchReplayOptions, RawHeader, RawLogRecord, RawReplayOptions, ReplayOptions } from '../ports';
import { fromKafkaMessage } from './codec';
import type { KafkaAdmin } from './kafka-admin';
import type { KafkaConnections } from './kafka-connections';
import type { TopicNamespace } from './topic-namespace';

/**
 * Reads topics from the beginning up to their end offsets at call time, for state rebuilds. Undecodable records go
 * to `onInvalid` and never stop a replay. Events go to the handler one by one, or each fetched partition batch at
 * once to a batch handler. Returns the number of events handled.
 */
export class KafkaReplay {
  constructor(
    private readonly connections: KafkaConnections,
    private readonly admin: KafkaAdmin,
    private readonly namespace: TopicNamespace,
    private readonly registry: EventRegistry,
    private readonly clientId: string,
  ) {}

  async run(options: ReplayOptions | BatchReplayOptions): Promise<number> {
    let handled = 0;
    await this.read(options.topics, ('from' in options ? options.from : undefined) ?? {}, async (clusterTopic, partition, messages, heartbeat) => {
      const whole = { events: [] as Envelope[], offsets: [] as string[], keys: [] as (string | null)[] };
      for (const message of messages) {
        const { origin, value } = fromKafkaMessage(this.namespace, clusterTopic, partition, message);
        const position = { topic: origin.topic, partition: origin.partition, offset: origin.offset };
        let event: Envelope;
        try {
          event = this.registry.decode(parseRecordValue(value));
        } catch (error) {
          options.onInvalid?.(error, position);
          continue;
        }
        if ('batchHandler' in options) {
          whole.events.push(event);
          whole.offsets.push(origin.offset);
          whole.keys.push(origin.key);
          continue;
        }
        await options.handler(event, origin);
        handled += 1;
        await heartbeat();
      }
      if ('batchHandler' in options && whole.events.length > 0) {
        await options.batchHandler(whole.events, { topic: this.namespace.logicalTopic(clusterTopic), partition, ...whole });
        handled += whole.events.length;
        await heartbeat();
      }
    });
    return handled;
  }

  /** Every record as bytes, from the given offsets (default the beginning) to the ends at call time; topics that do not exist hold none. */
  async runRaw(options: RawReplayOptions): Promise<number> {
    const existing = new Set(await this.admin.listTopics());
    const topics = options.topics.filter((topic) => existing.has(topic));
    let handled = 0;
    await this.read(topics, options.from ?? {}, async (clusterTopic, partition, messages, heartbeat) => {
      if (messages.length === 0) return;
      const topic = this.namespace.logicalTopic(clusterTopic);
      const records = messages.map((message) => rawRecord(topic, partition, message));
      await options.batchHandler(records, { topic, partition });
      handled += records.length;
      await heartbeat();
    });
    return handled;
  }

  /**
   * A throw-away group (never committed: a replay leaves no trace on the cluster) reads each partition from its start
   * (`from`, or the beginning) up to its end at call time and hands each fetched batch, cut at that end, to `onBatch`.
   */
  private async read(
    logicalTopics: readonly string[],
    from: NonNullable<RawReplayOptions['from']>,
    onBatch: (clusterTopic: string, partition: number, messages: readonly KafkaMessage[], heartbeat: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const ends = new Map<string, Map<number, bigint>>();
    const seeks: { topic: string; partition: number; offset: string }[] = [];
    // The partitions that hold something to read: only their reaching the end finishes the read (an empty one may
    // still report a batch, which must not count for a partition that is not done).
    const unread = new Set<string>();
    for (const logical of logicalTopics) {
      const topic = this.namespace.topic(logical);
      const byPartition = new Map<number, bigint>();
      for (const { partition, high, low } of await this.admin.partitionEnds(topic)) {
        byPartition.set(partition, high);
        const asked = from[logical]?.[partition];
        const start = asked === undefined ? low : BigInt(asked) > low ? BigInt(asked) : low;
        if (asked !== undefined) seeks.push({ topic, partition, offset: (start > high ? high : start).toString() });
        if (high > start) unread.add(`${topic}/${partition}`);
      }
      ends.set(topic, byPartition);
    }
    if (unread.size === 0) return;

    const consumer = this.connections.consumer({ groupId: this.namespace.group(`replay.${this.clientId}.${randomUUID()}`) });
    let resolveDone!: () => void;
    let rejectDone!: (error: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    const markIfDone = (topic: string, partition: number, nextOffset: bigint): void => {
      const end = ends.get(topic)?.get(partition);
      if (end !== undefined && nextOffset >= end && unread.delete(`${topic}/${partition}`) && unread.size === 0) resolveDone();
    };
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...ends.keys()], fromBeginning: true });
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        markIfDone(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const end = ends.get(batch.topic)?.get(batch.partition) ?? 0n;
          const within = batch.messages.filter((message) => BigInt(message.offset) < end);
          await onBatch(batch.topic, batch.partition, within, heartbeat);
        },
      });
      // A partition asked from an offset is moved there before its first fetch (the others start at the beginning).
      for (const seek of seeks) consumer.seek(seek);
      await finished;
    } catch (error) {
      rejectDone(error);
      throw error;
    } finally {
      await consumer.disconnect();
    }
  }
}

/** kafkajs folds headers into an object by name; this lists them back, a repeated name's values one after the other. */
export function rawHeaders(headers: KafkaMessage['headers']): RawHeader[] {
  const list: RawHeader[] = [];
  const bytes = (value: unknown): Buffer | null =>
    value === null || value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (Array.isArray(value)) for (const item of value) list.push({ key, value: bytes(item) });
    else list.push({ key, value: bytes(value) });
  }
  return list;
}

function rawRecord(topic: string, partition: number, message: KafkaMessage): RawLogRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: rawHeaders(message.headers),
    timestamp: new Date(Number(message.timestamp)).toISOString(),
  };
}
