import type { Envelope } from '@grantline/contracts';

/**
 * The transport seam. Services and the NestJS binding depend on these ports only, never on
 * kafkajs, so a second transport (another Kafka client, an embedded single-process log) can be
 * added without touching them.
 */

/** Publishes already-encoded envelopes. Resolves only once the broker acknowledged them with acks=all. */
export interface EventPublisher {
  publish(topic: string, events: readonly Envelope[]): Promise<void>;
}

/** What a handler may ask the runner to publish as a consequence of the message it handled. */
export interface HandlerOutput {
  readonly topic: string;
  readonly events: readonly Envelope[];
}

export interface MessageContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly groupId: string;
  /** 1 on the first try; grows with each retry of a failure. */
  readonly attempt: number;
  /** Keeps the consumer's group membership alive during long work. Safe to call often. */
  heartbeat(): Promise<void>;
}

/**
 * A handler receives a decoded, validated, upcast envelope. Whatever it returns is published
 * before (or, in transactional mode, atomically with) the offset commit of the message. Whatever it
 * throws is retried with backoff until it succeeds or the consumer stops; the offset never moves past it.
 */
export type EventHandler = (event: Envelope, context: MessageContext) => Promise<readonly HandlerOutput[] | void>;

/** Where the events handed to a batch handler came from: one partition, and each event's offset and key. */
export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Index for index with the events: the offset each was read at. */
  readonly offsets: readonly string[];
  /** Index for index with the events: each record's key. */
  readonly keys: readonly (string | null)[];
  readonly groupId: string;
  /** 1 on the first try; grows with each retry of the whole batch. */
  readonly attempt: number;
  /** Keeps the consumer's group membership alive during long work. Safe to call often. */
  heartbeat(): Promise<void>;
}

/**
 * Receives every event of one fetched partition batch that reached the handler, in log order: decoded, validated,
 * upcast, with poison dead-lettered and duplicates dropped beforehand, and ending before a record that halts the
 * partition. Whatever it returns is published before (or with) the commit of the whole batch; whatever it throws
 * retries the whole batch with backoff, nothing of it committed until it succeeds.
 */
export type BatchHandler = (events: readonly Envelope[], context: BatchContext) => Promise<readonly HandlerOutput[] | void>;

export interface RetryPolicy {
  /**
   * Total attempts, the first included, for callers that retry a bounded number of times themselves (a catch-up
   * replay). The consumer runner ignores it: it retries a failing handler until it succeeds or the consumer stops
   * (fail closed, see the README).
   */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** What every consumer is told, whether its handler takes events one by one or a batch at a time. */
export interface ConsumerSettings {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a new group starts. Existing groups always resume from their committed offsets. */
  readonly fromBeginning?: boolean;
  /** Backoff between retries of a failing handler (initialDelayMs doubling up to maxDelayMs). */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * A partition whose handler has failed, or that has made no progress while messages wait, for this long is
   * reported stalled in `health()` (readiness goes down). Defaults to 60 s.
   */
  readonly stallAfterMs?: number;
  /** Topic for poison messages (undecodable or invalid). Defaults to the catalogue's dead-letter topic. */
  readonly deadLetterTopic?: string;
  /**
   * When true, handler outputs and the consumed offset are committed in one Kafka transaction
   * (consume -> decide -> produce, exactly once within Kafka).
   */
  readonly transactional?: boolean;
  /** Partitions processed in parallel; within one partition processing is always serial. */
  readonly partitionsConsumedConcurrently?: number;
  /** Drops exact duplicates (same event id) before they reach the handler. */
  readonly dedup?: DedupStore;
}

/** A consumer whose handler takes one event at a time. */
export interface EventConsumerOptions extends ConsumerSettings {
  readonly handler: EventHandler;
  readonly batchHandler?: never;
}

/**
 * A consumer whose handler takes a partition's fetched batch at once (a projection that reads and writes its
 * documents once per batch). Same delivery and failure semantics, with the batch as the unit of retry and commit.
 */
export interface BatchConsumerOptions extends ConsumerSettings {
  readonly batchHandler: BatchHandler;
  readonly handler?: never;
}

/** Exactly one handler: per event, or per batch. */
export type ConsumerOptions = EventConsumerOptions | BatchConsumerOptions;

export interface RunningConsumer {
  readonly groupId: string;
  stop(): Promise<void>;
  /**
   * Resolves once the group has committed offsets at the end of every partition of its topics; rejects at once
   * when a partition it waits for is halted or the consumer crashed.
   */
  whenCaughtUp(options?: { timeoutMs?: number }): Promise<void>;
  /** What keeps this consumer from making progress, now. Cheap and synchronous: readiness probes call it. */
  health(): ConsumerHealth;
}

/**
 * Why a consumer is not doing its work. Topics are logical (catalogue) names; offsets are decimal strings;
 * `since` is an ISO timestamp.
 * - `halted`: an event of a type or version this service does not know, on a topic written by a Grantline service.
 *   The partition is paused at that offset and nothing past it is committed, so newer code resumes exactly there.
 * - `stalled`: the handler has kept failing (it is retried without end), or no message was completed while
 *   messages wait, for longer than `stallAfterMs`.
 * - `crashed`: the underlying client stopped consuming and will not restart by itself.
 */
export type ConsumerProblem =
  | {
      readonly state: 'halted';
      readonly topic: string;
      readonly partition: number;
      readonly offset: string;
      readonly eventType: string;
      readonly reason: string;
      readonly since: string;
    }
  | {
      readonly state: 'stalled';
      readonly topic: string;
      readonly partition: number;
      readonly offset: string;
      /** 'failing': the handler throws (attempts so far and the last error in `reason`); 'no-progress': lag without progress. */
      readonly cause: 'failing' | 'no-progress';
      readonly reason: string;
      readonly since: string;
    }
  | { readonly state: 'crashed'; readonly reason: string; readonly since: string };

export interface ConsumerHealth {
  readonly groupId: string;
  /** False when any problem is reported. */
  readonly ok: boolean;
  readonly problems: readonly ConsumerProblem[];
  /** Where each partition this consumer has fetched from stands, as of its last fetch or commit. */
  readonly partitions?: readonly PartitionPosition[];
}

/** One consumed partition: `lag` is how many records wait behind the committed position (0 when unknown). */
export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** How long one handler call took to succeed (retries included), for the service's metrics. */
export interface HandlerTiming {
  readonly groupId: string;
  readonly topic: string;
  /** Events handed over: 1, or the size of a batch. */
  readonly events: number;
  readonly seconds: number;
}

/** Told about every handled record or batch; it must not throw or block (metrics, not control flow). */
export interface MessagingObserver {
  handled(timing: HandlerTiming): void;
}

export interface ReplayOptions {
  readonly topics: readonly string[];
  readonly handler: (event: Envelope, context: Omit<MessageContext, 'heartbeat' | 'attempt' | 'groupId'>) => Promise<void>;
  /** Called for messages that cannot be decoded; replay never stops on one bad record. */
  readonly onInvalid?: (error: unknown, origin: { topic: string; partition: number; offset: string }) => void;
  /** Where to start, per logical topic and partition (decimal offsets); a partition without one starts at the beginning. */
  readonly from?: RawReplayOptions['from'];
}

/** A replay that hands over each fetched batch of one partition at once, decoded, in log order; undecodable records go to `onInvalid`. */
export interface BatchReplayOptions {
  readonly topics: readonly string[];
  readonly batchHandler: (events: readonly Envelope[], context: Pick<BatchContext, 'topic' | 'partition' | 'offsets' | 'keys'>) => Promise<void>;
  readonly onInvalid?: ReplayOptions['onInvalid'];
}

/** A record header as the log holds it: the name, and the value's bytes (null for a header without a value). */
export interface RawHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/**
 * A record's exact bytes and coordinates, undecoded: what tamper evidence commits to (key, value, headers) and where
 * it is (logical topic, partition, offset). Kafka hands headers over folded by name (kafkajs keeps them as an object):
 * distinct names come in the order first seen, and repeated values of one name follow each other.
 */
export interface RawLogRecord extends RecordRef {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RawHeader[];
  /** ISO timestamp of the record on the log (not committed to by tamper evidence: the broker may set it). */
  readonly timestamp: string;
}

/**
 * A replay of raw records: every record the log holds (read committed), poison and types no registry knows included,
 * never decoded; each fetched batch of one partition at once, in offset order.
 */
export interface RawReplayOptions {
  readonly topics: readonly string[];
  /**
   * Where to start, per logical topic and partition (decimal offsets): a follower reads only what it has not seen.
   * A partition without one starts at the beginning of the log.
   */
  readonly from?: Readonly<Record<string, Readonly<Record<number, string>>>>;
  readonly batchHandler: (records: readonly RawLogRecord[], context: { readonly topic: string; readonly partition: number }) => Promise<void>;
}

/** Where one partition of a topic ends now: the offset its next record will get (decimal). Logical topic name. */
export interface PartitionEnd {
  readonly topic: string;
  readonly partition: number;
  readonly end: string;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly configEntries?: Readonly<Record<string, string>>;
}

/** A record's place on the log: logical topic, partition and offset (what a dead letter refers to). */
export interface RecordRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A record read back by reference, as it is on the log: its bytes, undecoded. */
export interface LogRecord extends RecordRef {
  readonly key: string | null;
  readonly value: Buffer | null;
  /** ISO timestamp of the record on the log. */
  readonly timestamp: string;
}

export interface MessageBus {
  readonly publisher: EventPublisher;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** The topics on the log (in this bus's namespace), by their logical names. */
  listTopics(): Promise<string[]>;
  consume(options: ConsumerOptions): Promise<RunningConsumer>;
  /** Reads the given topics from the beginning up to their end offsets at call time. Returns the count handled. */
  replay(options: ReplayOptions): Promise<number>;
  /**
   * `replay`, handing each fetched partition batch to `batchHandler` at once. Its own method, so that `ReplayOptions`
   * keeps the required `handler` its callers and test doubles call directly.
   */
  replayBatches(options: BatchReplayOptions): Promise<number>;
  /**
   * Reads every record of the given topics, as bytes, from `from` (default the beginning) up to the end offsets at
   * call time; returns the count handed over. What tamper evidence (the audit's Merkle trees, `grantline export`) reads.
   */
  replayRaw(options: RawReplayOptions): Promise<number>;
  /**
   * Where every partition of the given topics ends now (a topic that does not exist has none). A reader that has
   * folded each partition up to its end has seen everything published before the call: a freshness fence.
   */
  endOffsets(topics: readonly string[]): Promise<readonly PartitionEnd[]>;
  health(): Promise<BusHealth>;
  metrics(): MessagingMetrics;
  /**
   * Which log this bus reads: the cluster's id and the namespace. State kept outside Kafka for a log (checkpoints,
   * offsets in a database) belongs to that log and no other.
   */
  logIdentity(): Promise<LogIdentity>;
  /**
   * Reads records back by reference, in the order asked; undefined for one that is no longer on the log (retention,
   * compaction) or never was. Dead letters keep references, not copies: this is how their originals are read.
   * Optional: a transport without a log to read back (a test double) leaves it out, and callers say so.
   */
  readRecords?(refs: readonly RecordRef[]): Promise<readonly (LogRecord | undefined)[]>;
}

export interface LogIdentity {
  readonly clusterId: string;
  readonly namespace?: string;
}

export interface BusHealth {
  /** The brokers answer and no consumer of this bus is halted, stalled or crashed. */
  readonly ok: boolean;
  readonly brokers: number;
  readonly detail?: string;
  /** The consumers this bus runs, each with its problems; absent for a transport that runs none. */
  readonly consumers?: readonly ConsumerHealth[];
}

export interface MessagingMetrics {
  readonly published: number;
  readonly consumed: number;
  readonly handled: number;
  /** Handler failures that were retried (every one is: handlers are retried until they succeed). */
  readonly retried: number;
  /** Poison messages (undecodable, invalid, unknown type on an upstream topic) sent to the dead-letter topic. */
  readonly deadLettered: number;
  /** Partitions halted on an event type or version this service does not know. */
  readonly halted: number;
  readonly duplicatesDropped: number;
  /** Batches whose outputs or offsets could not be committed (they are delivered again). */
  readonly commitFailures: number;
}

/** Remembers event ids already handled by one consumer group. */
export interface DedupStore {
  seen(groupId: string, eventId: string): Promise<boolean>;
  remember(groupId: string, eventId: string): Promise<void>;
}
