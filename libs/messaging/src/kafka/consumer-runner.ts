import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { TOPICS } from '@grantline/contracts';
import type { EventRegistry } from '@grantline/contracts';
import { DEFAULT_RETRY_POLICY } from '../backoff';
import { waitUntilCaughtUp } from '../caught-up';
import type { PartitionLag } from '../caught-up';
import { ConsumerHealthTracker } from '../consumer-health';
import type { Counters } from '../counters';
import { describeError } from '../errors';
import type { MessagingLogger } from '../logger';
import { MessageHandler } from '../message-handler';
import { PartitionBatches } from '../partition-batch';
import type { ConsumerHealth, ConsumerOptions, MessagingObserver, RetryPolicy, RunningConsumer } from '../ports';
import { fromKafkaMessage } from './codec';
import type { KafkaAdmin } from './kafka-admin';
import type { KafkaConnections } from './kafka-connections';
import { OffsetCommitter } from './offset-committer';
import type { TopicNamespace } from './topic-namespace';

/** How often a long handler keeps its group membership alive. Below the 10 s session timeout. */
const PACEMAKER_INTERVAL_MS = 3_000;

/** Heartbeat answers that mean the group is moving partitions: this member must let go and rejoin. */
const REJOIN_ANSWERS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

function mustRejoin(error: unknown): boolean {
  return REJOIN_ANSWERS.has(String((error as { type?: unknown }).type));
}

/** What a consumer needs from the bus that starts it; nothing reaches back into the bus. */
export interface ConsumerRunnerDeps {
  readonly connections: KafkaConnections;
  readonly admin: KafkaAdmin;
  readonly namespace: TopicNamespace;
  readonly registry: EventRegistry;
  readonly logger: MessagingLogger;
  readonly counters: Counters;
  /** `source` of the dead-letter records this consumer writes. */
  readonly source: string;
  readonly observer?: MessagingObserver;
}

/**
 * One consumer group member: partitions are processed serially (per-key order), each record handed to the
 * MessageHandler, and offsets committed only after the record's work (and outputs) are durable. A record whose type
 * this service does not know halts its partition; a failing handler holds its partition until it succeeds.
 */
export class KafkaRunningConsumer implements RunningConsumer {
  private readonly consumer: Consumer;
  private readonly txProducer: Producer | undefined;
  private readonly committer: OffsetCommitter;
  private readonly batches: PartitionBatches;
  private readonly tracker: ConsumerHealthTracker;
  private readonly retry: RetryPolicy;
  /** The group and topics as named on the cluster (namespaced); options keep the logical names. */
  private readonly clusterGroupId: string;
  private readonly clusterTopics: readonly string[];
  private readonly stopListeners: Array<() => void> = [];
  /** Aborted by stop(): retries and backoffs end at once instead of sitting out their delay. */
  private readonly stopping = new AbortController();
  /** Batches being processed, which stop() lets commit what they handled before it disconnects. */
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;

  constructor(
    private readonly deps: ConsumerRunnerDeps,
    private readonly options: ConsumerOptions,
  ) {
    const { connections, namespace, logger } = deps;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.clusterGroupId = namespace.group(options.groupId);
    this.clusterTopics = options.topics.map((topic) => namespace.topic(topic));
    this.tracker = new ConsumerHealthTracker(options.groupId, options.stallAfterMs);
    this.consumer = connections.groupConsumer(this.clusterGroupId, async (error) => {
      logger.error('consumer failed, restarting it', { groupId: options.groupId, error: describeError(error) });
      return this.running;
    });
    this.txProducer = options.transactional ? connections.transactionalProducer(options.groupId) : undefined;
    this.committer = new OffsetCommitter({
      consumer: this.consumer,
      txProducer: this.txProducer,
      publish: (topic, events) => connections.publish(topic, events),
      namespace,
      clusterGroupId: this.clusterGroupId,
      counters: deps.counters,
    });
    const messages = new MessageHandler({
      registry: deps.registry,
      options,
      deadLetterTopic: options.deadLetterTopic ?? TOPICS.deadLetter,
      retry: this.retry,
      source: deps.source,
      logger,
      counters: deps.counters,
      health: this.tracker,
      ...(deps.observer === undefined ? {} : { observer: deps.observer }),
    });
    this.batches = new PartitionBatches({
      messages,
      tracker: this.tracker,
      counters: deps.counters,
      logger,
      options,
      retry: this.retry,
      stopping: this.stopping.signal,
      running: () => this.running,
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  onStop(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  health(): ConsumerHealth {
    return this.tracker.health();
  }

  async start(): Promise<void> {
    const { namespace, logger } = this.deps;
    await this.txProducer?.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.clusterTopics], fromBeginning: this.options.fromBeginning ?? true });
    this.consumer.on(this.consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      this.tracker.fetched(namespace.logicalTopic(payload.topic), payload.partition, payload.firstOffset, payload.highWatermark);
    });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Positions of batches with messages advance only when their commit succeeded (in
      // commit()); a batch of only transaction markers has nothing to handle, so it moves the
      // position here and is committed so a restart and lag readers agree.
      if (payload.batchSize === 0) {
        const position = BigInt(payload.lastOffset) + 1n;
        this.tracker.advanced(namespace.logicalTopic(payload.topic), payload.partition, position);
        void this.consumer
          .commitOffsets([{ topic: payload.topic, partition: payload.partition, offset: position.toString() }])
          .catch((error: unknown) => logger.warn('commit of marker-only batch failed', { error: describeError(error) }));
      }
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const owned = new Map(Object.entries(payload.memberAssignment).map(([topic, partitions]) => [namespace.logicalTopic(topic), partitions]));
      const released = this.tracker.assigned(owned);
      // A halted partition that went to another member is that member's to halt; should it come back, it must be
      // fetched (and halt again, reported) rather than stay paused here unseen.
      if (released.length > 0) this.consumer.resume(released.map(({ topic, partition }) => ({ topic: namespace.topic(topic), partitions: [partition] })));
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.tracker.crashed(describeError(payload.error));
      logger.error('consumer crashed', { groupId: this.options.groupId, error: describeError(payload.error), restart: payload.restart });
    });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => {
        const batch = this.handleBatch(payload);
        this.inFlight.add(batch);
        return batch.finally(() => this.inFlight.delete(batch));
      },
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    // kafkajs silently drops commits once its disconnect has begun: the records a batch handled before the stop
    // would be delivered again to the next member. Its batches commit them first (and take no new record).
    await Promise.allSettled([...this.inFlight]);
    await this.consumer.disconnect();
    await this.txProducer?.disconnect();
    for (const listener of this.stopListeners) listener();
  }

  whenCaughtUp(options: { timeoutMs?: number } = {}): Promise<void> {
    const { admin, namespace } = this.deps;
    const partitions = async (): Promise<PartitionLag[]> => {
      const lags: PartitionLag[] = [];
      for (const topic of this.clusterTopics) {
        const [ends, committed] = await Promise.all([admin.partitionEnds(topic), admin.committedOffsets(this.clusterGroupId, topic)]);
        for (const { partition, high } of ends)
          lags.push({ topic: namespace.logicalTopic(topic), label: topic, partition, high, committed: committed.get(partition) });
      }
      return lags;
    };
    return waitUntilCaughtUp(this.options.groupId, this.tracker, partitions, options.timeoutMs);
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset, pause: pausePartition }: EachBatchPayload): Promise<void> {
    const { namespace } = this.deps;
    // Ends a handler's retrying when the consumer stops or the group rebalances: a partition held by endless
    // retries would otherwise keep the whole group from rebalancing, and this member would be expelled.
    const rejoin = new AbortController();
    const letGo = AbortSignal.any([this.stopping.signal, rejoin.signal]);
    // One pacemaker per batch keeps the membership alive through long handlers and retries.
    const pacemaker = setInterval(() => {
      heartbeat().catch((error: unknown) => {
        if (mustRejoin(error)) rejoin.abort();
      });
    }, PACEMAKER_INTERVAL_MS);
    try {
      await this.batches.process({
        topic: namespace.logicalTopic(batch.topic),
        partition: batch.partition,
        records: batch.messages.map((message) => fromKafkaMessage(namespace, batch.topic, batch.partition, message)),
        heartbeat,
        signal: letGo,
        proceed: () => isRunning() && !isStale(),
        resolve: resolveOffset,
        commit: (offset, outputs) => this.committer.commit(batch.topic, batch.partition, offset, outputs),
        pause: pausePartition,
        rewind: (offset) => this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset }),
      });
    } finally {
      clearInterval(pacemaker);
    }
  }
}
