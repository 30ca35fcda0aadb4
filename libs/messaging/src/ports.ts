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
  /** 1 on the first try; grows with each retry of a retriable failure. */
  readonly attempt: number;
  /** Keeps the consumer's group membership alive during long work. Safe to call often. */
  heartbeat(): Promise<void>;
}

/**
 * A handler receives a decoded, validated, upcast envelope. Whatever it returns is published
 * before (or, in transactional mode, atomically with) the offset commit of the message.
 */
export type EventHandler = (event: Envelope, context: MessageContext) => Promise<readonly HandlerOutput[] | void>;

export interface RetryPolicy {
  /** Total attempts for a retriable failure, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: EventHandler;
  /** Where a new group starts. Existing groups always resume from their committed offsets. */
  readonly fromBeginning?: boolean;
  readonly retry?: Partial<RetryPolicy>;
  /** Topic for poison and terminally failed messages. Defaults to the catalogue's dead-letter topic. */
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

export interface RunningConsumer {
  readonly groupId: string;
  stop(): Promise<void>;
  /** Resolves once the group has committed offsets at the end of every partition of its topics. */
  whenCaughtUp(options?: { timeoutMs?: number }): Promise<void>;
}

export interface ReplayOptions {
  readonly topics: readonly string[];
  readonly handler: (event: Envelope, context: Omit<MessageContext, 'heartbeat' | 'attempt' | 'groupId'>) => Promise<void>;
  /** Called for messages that cannot be decoded; replay never stops on one bad record. */
  readonly onInvalid?: (error: unknown, origin: { topic: string; partition: number; offset: string }) => void;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly configEntries?: Readonly<Record<string, string>>;
}

export interface MessageBus {
  readonly publisher: EventPublisher;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  consume(options: ConsumerOptions): Promise<RunningConsumer>;
  /** Reads the given topics from the beginning up to their end offsets at call time. Returns the count handled. */
  replay(options: ReplayOptions): Promise<number>;
  health(): Promise<BusHealth>;
  metrics(): MessagingMetrics;
  /**
   * Which log this bus reads: the cluster's id and the namespace. State kept outside Kafka for a log (checkpoints,
   * offsets in a database) belongs to that log and no other.
   */
  logIdentity(): Promise<LogIdentity>;
}

export interface LogIdentity {
  readonly clusterId: string;
  readonly namespace?: string;
}

export interface BusHealth {
  readonly ok: boolean;
  readonly brokers: number;
  readonly detail?: string;
}

export interface MessagingMetrics {
  readonly published: number;
  readonly consumed: number;
  readonly handled: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly duplicatesDropped: number;
  /** Batches whose outputs or offsets could not be committed (they are delivered again). */
  readonly commitFailures: number;
}

/** Remembers event ids already handled by one consumer group. */
export interface DedupStore {
  seen(groupId: string, eventId: string): Promise<boolean>;
  remember(groupId: string, eventId: string): Promise<void>;
}
