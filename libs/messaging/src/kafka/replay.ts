import { randomUUID } from 'node:crypto';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { parseRecordValue } from '../consumed-record';
import type { BatchReplayOptions, ReplayOptions } from '../ports';
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
    const ends = new Map<string, Map<number, bigint>>();
    let remaining = 0;
    const topics = options.topics.map((topic) => this.namespace.topic(topic));
    for (const topic of topics) {
      const byPartition = new Map<number, bigint>();
      for (const { partition, high, low } of await this.admin.partitionEnds(topic)) {
        byPartition.set(partition, high);
        if (high > low) remaining += 1;
      }
      ends.set(topic, byPartition);
    }
    if (remaining === 0) return 0;

    // A throw-away group that is never committed: replay leaves no trace on the cluster.
    const consumer = this.connections.consumer({ groupId: this.namespace.group(`replay.${this.clientId}.${randomUUID()}`) });
    let handled = 0;
    const done = new Set<string>();
    let resolveDone!: () => void;
    let rejectDone!: (error: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    const markIfDone = (topic: string, partition: number, nextOffset: bigint): void => {
      const end = ends.get(topic)?.get(partition);
      if (end !== undefined && nextOffset >= end && !done.has(`${topic}/${partition}`)) {
        done.add(`${topic}/${partition}`);
        if (done.size >= remaining) resolveDone();
      }
    };
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        markIfDone(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const whole = { events: [] as Envelope[], offsets: [] as string[], keys: [] as (string | null)[] };
          for (const message of batch.messages) {
            const end = ends.get(batch.topic)?.get(batch.partition) ?? 0n;
            if (BigInt(message.offset) >= end) break;
            const { origin, value } = fromKafkaMessage(this.namespace, batch.topic, batch.partition, message);
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
            await options.batchHandler(whole.events, { topic: this.namespace.logicalTopic(batch.topic), partition: batch.partition, ...whole });
            handled += whole.events.length;
            await heartbeat();
          }
        },
      });
      await finished;
    } catch (error) {
      rejectDone(error);
      throw error;
    } finally {
      await consumer.disconnect();
    }
    return handled;
  }
}
