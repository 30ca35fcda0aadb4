import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { TOPICS } from '@grantline/contracts';
import type { EventRegistry } from '@grantline/contracts';
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from '../backoff';
import { ConsumerHealthTracker } from '../consumer-health';
import type { Counters } from '../counters';
import { describeError } from '../errors';
import type { MessagingLogger } from '../logger';
import type { ConsumerHealth, ConsumerOptions, HandlerOutput, RetryPolicy, RunningConsumer } from '../ports';
import { pause } from '../retry-policy';
import type { ConsumedRecord } from './codec';
import { fromKafkaMessage } from './codec';
import type { KafkaAdmin } from './kafka-admin';
import type { KafkaConnections } from './kafka-connections';
import { MessageHandler } from './message-handler';
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
  private readonly messages: MessageHandler;
  private readonly tracker: ConsumerHealthTracker;
  private readonly retry: RetryPolicy;
  /** The group and topics as named on the cluster (namespaced); options keep the logical names. */
  private readonly clusterGroupId: string;
  private readonly clusterTopics: readonly string[];
  private readonly stopListeners: Array<() => void> = [];
  /** Aborted by stop(): retries and backoffs end at once instead of sitting out their delay. */
  private readonly stopping = new AbortController();
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
    this.messages = new MessageHandler({
      registry: deps.registry,
      options,
      deadLetterTopic: options.deadLetterTopic ?? TOPICS.deadLetter,
      retry: this.retry,
      source: deps.source,
      logger,
      counters: deps.counters,
      health: this.tracker,
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
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    await this.consumer.disconnect();
    await this.txProducer?.disconnect();
    for (const listener of this.stopListeners) listener();
  }

  async whenCaughtUp(options: { timeoutMs?: number } = {}): Promise<void> {
    const { admin, namespace } = this.deps;
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const lagging: string[] = [];
      for (const topic of this.clusterTopics) {
        const [ends, committed] = await Promise.all([admin.partitionEnds(topic), admin.committedOffsets(this.clusterGroupId, topic)]);
        for (const { partition, high } of ends) {
          const here = this.tracker.position(namespace.logicalTopic(topic), partition) ?? -1n;
          const there = committed.get(partition) ?? -1n;
          const position = here > there ? here : there;
          if (high > 0n && position < high) lagging.push(`${topic}/${partition}: at ${position} of ${high}`);
        }
      }
      if (lagging.length === 0) return;
      const halts = this.tracker.halts();
      if (halts.length > 0) {
        const where = halts.map((h) => `${h.topic}/${h.partition} at offset ${h.offset} (${h.eventType})`).join(', ');
        throw new Error(`consumer ${this.options.groupId} halted on an unknown event type: ${where}`);
      }
      const crashed = this.tracker.health().problems.find((problem) => problem.state === 'crashed');
      if (crashed) throw new Error(`consumer ${this.options.groupId} crashed: ${crashed.reason}`);
      if (Date.now() > deadline) throw new Error(`consumer ${this.options.groupId} not caught up: ${lagging.join(', ')}`);
      await pause(50);
    }
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset, pause: pausePartition }: EachBatchPayload): Promise<void> {
    const { namespace, counters, logger } = this.deps;
    // A batch fetched before the pause took effect: nothing past the halted offset may be handled.
    if (this.tracker.isHalted(namespace.logicalTopic(batch.topic), batch.partition)) return;
    const outputs: HandlerOutput[] = [];
    // Ids are remembered as handled only once their outputs and offsets are committed: if the
    // commit fails, the redelivered message must be handled again, not dropped as a duplicate.
    const handledIds: string[] = [];
    let lastProcessed: string | undefined;
    // The first offset whose outputs and commit are not yet durable: where to resume on failure.
    let uncommittedFrom = batch.messages[0]?.offset;
    let pendingSince = Date.now();
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
    const scope = { heartbeat, signal: letGo, handledInBatch: handledIds };
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || letGo.aborted) break;
        counters.consumed += 1;
        const record = fromKafkaMessage(namespace, batch.topic, batch.partition, message);
        const outcome = await this.messages.handle(record, scope);
        // Stopping mid-retry: leave this message uncommitted so the next owner of the partition redoes it.
        if (outcome.kind === 'interrupted') break;
        if (outcome.kind === 'halt') {
          this.halt(record, outcome.eventType, outcome.reason, pausePartition);
          break;
        }
        outputs.push(...outcome.outputs);
        if (outcome.kind === 'handled' && this.options.dedup) handledIds.push(outcome.eventId);
        lastProcessed = message.offset;
        // Moves the fetch position only; the commit below is what a restart resumes from.
        resolveOffset(message.offset);
        // Long batches commit as they go, so a crash re-delivers little.
        if (outputs.length >= 500 || Date.now() - pendingSince > 1_000) {
          await this.commit(batch.topic, batch.partition, lastProcessed, outputs.splice(0));
          await this.rememberHandled(handledIds.splice(0));
          uncommittedFrom = (BigInt(lastProcessed) + 1n).toString();
          pendingSince = Date.now();
        }
      }
      if (lastProcessed !== undefined) {
        await this.commit(batch.topic, batch.partition, lastProcessed, outputs);
        await this.rememberHandled(handledIds);
      }
    } catch (error) {
      if (uncommittedFrom === undefined || !this.running) throw error;
      // The fetch position already moved past these messages: move it back so they are
      // delivered again, after a pause so a persistent failure does not spin.
      counters.commitFailures += 1;
      logger.error('batch not committed; it will be delivered again', {
        groupId: this.options.groupId,
        topic: namespace.logicalTopic(batch.topic),
        partition: batch.partition,
        from: uncommittedFrom,
        error: describeError(error),
      });
      this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: uncommittedFrom });
      await pause(backoffDelayMs(this.retry, Math.min(counters.commitFailures, 6)), this.stopping.signal);
    } finally {
      clearInterval(pacemaker);
    }
  }

  /**
   * Stops the partition at a record this service cannot read but a newer release can: nothing at or past it is
   * committed, so that release continues from exactly here. The other partitions keep flowing.
   */
  private halt(record: ConsumedRecord, eventType: string, reason: string, pausePartition: () => void): void {
    const { origin } = record;
    this.deps.counters.halted += 1;
    this.tracker.halt(origin.topic, origin.partition, origin.offset, eventType, reason);
    pausePartition();
    this.deps.logger.error('partition halted: event type unknown to this service; not committed, a newer release resumes here', {
      groupId: this.options.groupId,
      topic: origin.topic,
      partition: origin.partition,
      offset: origin.offset,
      eventType,
      reason,
    });
  }

  private async commit(topic: string, partition: number, offset: string, outputs: readonly HandlerOutput[]): Promise<void> {
    const next = await this.committer.commit(topic, partition, offset, outputs);
    this.tracker.advanced(this.deps.namespace.logicalTopic(topic), partition, next);
  }

  private async rememberHandled(eventIds: readonly string[]): Promise<void> {
    const dedup = this.options.dedup;
    if (!dedup) return;
    for (const id of eventIds) await dedup.remember(this.options.groupId, id);
  }
}
