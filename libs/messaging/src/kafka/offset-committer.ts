import type { Consumer, Producer } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import type { Counters } from '../counters';
import { outputsByTopic } from '../partition-batch';
import type { HandlerOutput } from '../ports';
import { toKafkaMessages } from './codec';
import type { TopicNamespace } from './topic-namespace';
import { whileTransactionsSettle } from './transaction-retry';

export interface OffsetCommitterDeps {
  readonly consumer: Consumer;
  /** Present in transactional mode: outputs and the offset then commit atomically. */
  readonly txProducer: Producer | undefined;
  /** Publishes to a logical topic with acks=all (the bus's shared producer). */
  readonly publish: (topic: string, events: readonly Envelope[]) => Promise<void>;
  readonly namespace: TopicNamespace;
  readonly clusterGroupId: string;
  readonly counters: Counters;
}

/**
 * Makes a handled prefix of a partition durable: the handlers' outputs first, then the offset after the last
 * handled record — in one Kafka transaction when the consumer is transactional, so a crash in between can neither
 * lose the outputs nor publish them twice under different offsets.
 */
export class OffsetCommitter {
  /** kafkajs allows one open transaction per producer; partitions processed concurrently take turns. */
  private transactionTurn: Promise<void> = Promise.resolve();

  constructor(private readonly deps: OffsetCommitterDeps) {}

  /** Publishes `outputs`, then commits the offset after `offset` on a cluster topic. Returns that next offset. */
  async commit(topic: string, partition: number, offset: string, outputs: readonly HandlerOutput[]): Promise<bigint> {
    const next = BigInt(offset) + 1n;
    const byTopic = outputsByTopic(outputs);
    const { txProducer } = this.deps;
    if (txProducer) {
      const previous = this.transactionTurn;
      let release!: () => void;
      this.transactionTurn = new Promise<void>((resolve) => (release = resolve));
      await previous;
      try {
        await this.commitTransaction(txProducer, topic, partition, next.toString(), byTopic);
      } finally {
        release();
      }
      for (const events of byTopic.values()) this.deps.counters.published += events.length;
    } else {
      for (const [outTopic, events] of byTopic) await this.deps.publish(outTopic, events);
      await this.deps.consumer.commitOffsets([{ topic, partition, offset: next.toString() }]);
    }
    return next;
  }

  private async commitTransaction(
    producer: Producer,
    topic: string,
    partition: number,
    next: string,
    byTopic: ReadonlyMap<string, readonly Envelope[]>,
  ): Promise<void> {
    const transaction = await producer.transaction();
    try {
      for (const [outTopic, events] of byTopic) {
        if (events.length > 0) await transaction.send({ topic: this.deps.namespace.topic(outTopic), acks: -1, messages: toKafkaMessages(events) });
      }
      const offsets = { consumerGroupId: this.deps.clusterGroupId, topics: [{ topic, partitions: [{ partition, offset: next }] }] };
      await whileTransactionsSettle(() => transaction.sendOffsets(offsets));
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }
}
