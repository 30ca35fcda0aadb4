import { TOPICS } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { DEFAULT_RETRY_POLICY } from '../backoff';
import { waitUntilCaughtUp } from '../caught-up';
import type { ConsumedRecord } from '../consumed-record';
import { ConsumerHealthTracker } from '../consumer-health';
import type { Counters } from '../counters';
import { describeError } from '../errors';
import type { MessagingLogger } from '../logger';
import { MessageHandler } from '../message-handler';
import { outputsByTopic, PartitionBatches } from '../partition-batch';
import type { ConsumerHealth, ConsumerOptions, HandlerOutput, RetryPolicy, RunningConsumer } from '../ports';
import type { GroupMember, InMemoryLog, StoredRecord } from './in-memory-log';

/** Records handed to one batch at most, so a long partition commits as it goes and other partitions get turns. */
const MAX_BATCH = 500;

export interface InMemoryConsumerDeps {
  readonly log: InMemoryLog;
  readonly registry: EventRegistry;
  readonly logger: MessagingLogger;
  readonly counters: Counters;
  /** `source` of the dead-letter records this consumer writes. */
  readonly source: string;
  /** The bus's publishing path (latency, injected failures): outputs outside a transaction go through it. */
  readonly publish: (topic: string, events: readonly Envelope[]) => Promise<void>;
  /** Writes outputs and runs `commitOffset` as one step that fails as a whole: a transaction. */
  readonly transact: (outputs: ReadonlyMap<string, readonly Envelope[]>, commitOffset: () => void) => Promise<void>;
}

export function toConsumedRecord(stored: StoredRecord): ConsumedRecord {
  const { topic, partition, offset, key, value, timestamp } = stored;
  return { origin: { topic, partition, offset: offset.toString(), key }, value, timestamp };
}

/** Partitions take turns, `permits` at a time: with one, a retrying partition holds the member's others, as on Kafka. */
class Turns {
  private readonly queue: (() => void)[] = [];
  constructor(private free: number) {}

  async take<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

/**
 * A consumer group member on the in-memory log. The batch loop, failure policy, retries, health and lag are the
 * Kafka runner's own (PartitionBatches, MessageHandler, ConsumerHealthTracker, waitUntilCaughtUp); only fetching,
 * committing and group membership are the log's.
 */
export class InMemoryRunningConsumer implements RunningConsumer, GroupMember {
  private readonly tracker: ConsumerHealthTracker;
  private readonly batches: PartitionBatches;
  private readonly retry: RetryPolicy;
  private readonly turns: Turns;
  private readonly stopListeners: Array<() => void> = [];
  /** Aborted by stop(): retries and backoffs end at once instead of sitting out their delay. */
  private readonly stopping = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private running = false;

  constructor(
    private readonly deps: InMemoryConsumerDeps,
    private readonly options: ConsumerOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.tracker = new ConsumerHealthTracker(options.groupId, options.stallAfterMs);
    this.turns = new Turns(Math.max(1, options.partitionsConsumedConcurrently ?? 1));
    const messages = new MessageHandler({
      registry: deps.registry,
      options,
      deadLetterTopic: options.deadLetterTopic ?? TOPICS.deadLetter,
      retry: this.retry,
      source: deps.source,
      logger: deps.logger,
      counters: deps.counters,
      health: this.tracker,
    });
    this.batches = new PartitionBatches({
      messages,
      tracker: this.tracker,
      counters: deps.counters,
      logger: deps.logger,
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

  start(): void {
    // Subscribing to a topic that does not exist fails here as it does on Kafka (unless the log creates it).
    for (const topic of this.options.topics) this.deps.log.partitionCount(topic);
    this.running = true;
    if (this.deps.log.join(this.options.groupId, this)) this.takeOver();
  }

  /** The group's partitions are this member's now: each is worked from the group's committed offset. */
  takeOver(): void {
    if (!this.running) return;
    const { log } = this.deps;
    const owned = new Map(this.options.topics.map((topic) => [topic, Array.from({ length: log.partitionCount(topic) }, (_, partition) => partition)]));
    this.tracker.assigned(owned);
    for (const [topic, partitions] of owned) for (const partition of partitions) this.workers.push(this.work(topic, partition));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    await Promise.all(this.workers);
    this.deps.log.leave(this.options.groupId, this);
    for (const listener of this.stopListeners) listener();
  }

  whenCaughtUp(options: { timeoutMs?: number } = {}): Promise<void> {
    const { log } = this.deps;
    const partitions = async () =>
      this.options.topics.flatMap((topic) =>
        log
          .ends(topic)
          .map((high, partition) => ({ topic, label: topic, partition, high, committed: log.committedOffset(this.options.groupId, topic, partition) })),
      );
    return waitUntilCaughtUp(this.options.groupId, this.tracker, partitions, options.timeoutMs);
  }

  /** One partition's fetch loop: until the consumer stops or the partition halts. */
  private async work(topic: string, partition: number): Promise<void> {
    const { log, logger } = this.deps;
    const { groupId } = this.options;
    const signal = this.stopping.signal;
    const start = log.committedOffset(groupId, topic, partition);
    // A new group starts at the beginning or, like Kafka's auto.offset.reset=latest, at the end as it is now.
    let position = start ?? ((this.options.fromBeginning ?? true) ? 0n : (log.ends(topic)[partition] ?? 0n));
    let paused = false;
    try {
      while (!signal.aborted && !paused) {
        await log.whenAppended(topic, partition, position, signal);
        if (signal.aborted) break;
        await this.turns.take(async () => {
          if (signal.aborted) return;
          const records = log.read(topic, partition, position, MAX_BATCH);
          if (records.length === 0) return;
          this.tracker.fetched(topic, partition, records[0]!.offset.toString(), (log.ends(topic)[partition] ?? 0n).toString());
          await this.batches.process({
            topic,
            partition,
            records: records.map(toConsumedRecord),
            heartbeat: async () => undefined,
            signal,
            proceed: () => this.running,
            resolve: (offset) => (position = BigInt(offset) + 1n),
            commit: (offset, outputs) => this.commit(topic, partition, offset, outputs),
            pause: () => (paused = true),
            rewind: (offset) => (position = BigInt(offset)),
          });
        });
      }
    } catch (error) {
      // Only a stopping consumer's failed commit gets here: the records stay uncommitted for the next owner.
      logger.warn('partition worker ended', { groupId, topic, partition, error: describeError(error) });
    }
  }

  private async commit(topic: string, partition: number, offset: string, outputs: readonly HandlerOutput[]): Promise<bigint> {
    const next = BigInt(offset) + 1n;
    const byTopic = outputsByTopic(outputs);
    const commitOffset = (): void => this.deps.log.commit(this.options.groupId, topic, partition, next);
    if (this.options.transactional) {
      await this.deps.transact(byTopic, commitOffset);
    } else {
      for (const [outTopic, events] of byTopic) await this.deps.publish(outTopic, events);
      commitOffset();
    }
    return next;
  }
}
