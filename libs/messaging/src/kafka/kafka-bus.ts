import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer, LogEntry } from 'kafkajs';
import { TOPICS } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from '../backoff';
import { buildDeadLetter, decodeFailureClass } from '../dead-letter';
import type { DeadLetterErrorClass } from '@grantline/contracts';
import { classifyError, describeError } from '../errors';
import type { MessagingLogger } from '../logger';
import { jsonConsoleLogger } from '../logger';
import { TopicNamespace } from './topic-namespace';
import { whileTransactionsSettle } from './transaction-retry';
import type {
  BusHealth,
  ConsumerOptions,
  EventPublisher,
  HandlerOutput,
  LogIdentity,
  MessageBus,
  MessageContext,
  MessagingMetrics,
  ReplayOptions,
  RetryPolicy,
  RunningConsumer,
  TopicSpec,
} from '../ports';

export interface KafkaBusConfig {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly registry: EventRegistry;
  readonly logger?: MessagingLogger;
  /** Partitions for topics this bus creates. */
  readonly defaultPartitions?: number;
  /** Distinguishes transactional producers of several instances of one service. */
  readonly instanceId?: string;
  /** Upper bound for connection attempts before a call fails (and an HTTP edge answers 503). */
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Prefix of every topic, consumer group and transactional id on the cluster, so environments sharing one
   * cluster cannot see each other (see TopicNamespace). Callers keep using the catalogue's names.
   */
  readonly namespace?: string;
}

/** How often a long handler keeps its group membership alive. Below the 10 s session timeout. */
const PACEMAKER_INTERVAL_MS = 3_000;
const INTERRUPTED = Symbol('interrupted');
const HEADER_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

interface Counters {
  published: number;
  consumed: number;
  handled: number;
  retried: number;
  deadLettered: number;
  duplicatesDropped: number;
  commitFailures: number;
}

function toKafkaMessages(events: readonly Envelope[]) {
  return events.map((event) => ({
    key: event.subject,
    value: JSON.stringify(event),
    headers: { 'content-type': HEADER_CONTENT_TYPE, ce_id: event.id, ce_type: event.type },
  }));
}

/**
 * Broker answers kafkajs logs as errors although they are expected while topics are created, leaders move and
 * groups rebalance, and are retried (by kafkajs or by this bus). Logged as warnings so an operator's error alerts
 * mean something.
 */
const TRANSIENT_BROKER_ANSWERS = [
  'does not host this topic-partition',
  'not the leader for that topic-partition',
  'Topic creation errors',
  'The group is rebalancing',
  'another concurrent operation on the same transaction',
  'coordinator is loading',
];

export function isTransientBrokerAnswer(log: { readonly message?: unknown; readonly error?: unknown }): boolean {
  const text = `${String(log.message ?? '')} ${String(log.error ?? '')}`;
  return TRANSIENT_BROKER_ANSWERS.some((fragment) => text.includes(fragment));
}

function kafkaLogCreator(logger: MessagingLogger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { component: 'kafkajs', namespace, ...extra };
      if (level === logLevel.ERROR && isTransientBrokerAnswer(log)) logger.warn(message, fields);
      else if (level === logLevel.ERROR) logger.error(message, fields);
      else if (level === logLevel.WARN) logger.warn(message, fields);
      else logger.debug(message, fields);
    };
}

/**
 * Admin reads right after a topic was created can meet a moving leader ("not the leader for that
 * topic-partition" on Kafka 4). kafkajs marks such errors retriable; retry them briefly here so
 * every caller (replay, lag checks) is spared the special case.
 */
async function withRetriableRetry<T>(read: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await sleep(Math.min(2_000, 100 * 2 ** (attempt - 1)));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Kafka transport on kafkajs: an idempotent acks=all producer, a consumer runner that commits
 * only after the handler's work is durable, retries and dead-lettering, transactions, replay.
 */
export class KafkaMessageBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly logger: MessagingLogger;
  private readonly registry: EventRegistry;
  private readonly instanceId: string;
  readonly namespace: TopicNamespace;
  private producer: Producer | undefined;
  private producerConnecting: Promise<Producer> | undefined;
  private admin: Admin | undefined;
  private readonly consumers = new Set<KafkaRunningConsumer>();
  private readonly counters: Counters = {
    published: 0,
    consumed: 0,
    handled: 0,
    retried: 0,
    deadLettered: 0,
    duplicatesDropped: 0,
    commitFailures: 0,
  };

  readonly publisher: EventPublisher = {
    publish: (topic, events) => this.publish(topic, events),
  };

  constructor(private readonly config: KafkaBusConfig) {
    this.logger = config.logger ?? jsonConsoleLogger;
    this.registry = config.registry;
    this.instanceId = config.instanceId ?? randomUUID();
    this.namespace = new TopicNamespace(config.namespace);
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: config.connectionTimeoutMs ?? 3_000,
      requestTimeout: config.requestTimeoutMs ?? 30_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(this.logger),
    });
  }

  get source(): string {
    return `grantline/${this.config.clientId}`;
  }

  async connect(): Promise<void> {
    await this.getProducer();
    await this.getAdmin();
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    const producer = this.producer;
    this.producer = undefined;
    this.producerConnecting = undefined;
    const admin = this.admin;
    this.admin = undefined;
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (!this.producerConnecting) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producerConnecting = producer.connect().then(
        () => {
          this.producer = producer;
          producer.on(producer.events.DISCONNECT, () => {
            if (this.producer === producer) {
              this.producer = undefined;
              this.producerConnecting = undefined;
            }
          });
          return producer;
        },
        (error: unknown) => {
          this.producerConnecting = undefined;
          throw error;
        },
      );
    }
    return this.producerConnecting;
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async publish(topic: string, events: readonly Envelope[]): Promise<void> {
    if (events.length === 0) return;
    const producer = await this.getProducer();
    await producer.send({ topic: this.namespace.topic(topic), acks: -1, messages: toKafkaMessages(events) });
    this.counters.published += events.length;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const onCluster = topics.map((spec) => ({ ...spec, topic: this.namespace.topic(spec.topic) }));
    const missing = onCluster.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      try {
        // Not waitForLeaders: right after creation Kafka 4 answers "does not host this
        // topic-partition", which kafkajs does not treat as transient. Leaders are awaited below.
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.partitions ?? this.config.defaultPartitions ?? 3,
            replicationFactor: -1,
            configEntries: Object.entries(spec.configEntries ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (error) {
        // Several services may create a shared topic at once; losing that race is fine.
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
      }
    }
    await this.waitForLeaders(onCluster.map((spec) => spec.topic));
  }

  /** The topics that exist in this bus's namespace, by their logical names. */
  async listTopics(): Promise<string[]> {
    const admin = await this.getAdmin();
    const prefix = this.namespace.topic('');
    return (await admin.listTopics()).filter((topic) => topic.startsWith(prefix)).map((topic) => this.namespace.logicalTopic(topic)).sort();
  }

  /**
   * Deletes every topic and consumer group of this bus's namespace: a test platform or a
   * throw-away environment removes its log when it is done, so a long-lived broker does not
   * collect partitions (every one is a directory and open files on the broker). Refused
   * without a namespace: the bare cluster's topics belong to the platform.
   */
  async deleteNamespace(): Promise<{ topics: number; groups: number }> {
    if (this.namespace.name === undefined) throw new Error('deleteNamespace: this bus has no namespace; refusing to delete the cluster\'s topics');
    const admin = await this.getAdmin();
    const prefix = this.namespace.topic('');
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await withRetriableRetry(() => admin.deleteTopics({ topics, timeout: 30_000 }));
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((group) => group.startsWith(prefix));
    if (groups.length > 0) await withRetriableRetry(() => admin.deleteGroups(groups));
    return { topics: topics.length, groups: groups.length };
  }

  private async waitForLeaders(topics: readonly string[], timeoutMs = 30_000): Promise<void> {
    const admin = await this.getAdmin();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
        const ready = metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0));
        // Metadata can name a leader before that broker hosts the partition (Kafka 4 answers "not the leader"
        // for a moment): asking each leader for its offsets proves the partitions serve requests.
        if (ready) {
          for (const topic of topics) await admin.fetchTopicOffsets(topic);
          return;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
      await sleep(100);
    }
  }

  async consume(options: ConsumerOptions): Promise<RunningConsumer> {
    const consumer = new KafkaRunningConsumer(this, this.kafka, options, this.counters);
    this.consumers.add(consumer);
    consumer.onStop(() => this.consumers.delete(consumer));
    await consumer.start();
    return consumer;
  }

  async replay(options: ReplayOptions): Promise<number> {
    const admin = await this.getAdmin();
    const ends = new Map<string, Map<number, bigint>>();
    let remaining = 0;
    const topics = options.topics.map((topic) => this.namespace.topic(topic));
    for (const topic of topics) {
      const offsets = await withRetriableRetry(() => admin.fetchTopicOffsets(topic));
      const byPartition = new Map<number, bigint>();
      for (const { partition, high, low } of offsets) {
        byPartition.set(partition, BigInt(high));
        if (BigInt(high) > BigInt(low)) remaining += 1;
      }
      ends.set(topic, byPartition);
    }
    if (remaining === 0) return 0;

    // A throw-away group that is never committed: replay leaves no trace on the cluster.
    const consumer = this.kafka.consumer({ groupId: this.namespace.group(`replay.${this.config.clientId}.${randomUUID()}`) });
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
          for (const message of batch.messages) {
            const end = ends.get(batch.topic)?.get(batch.partition) ?? 0n;
            if (BigInt(message.offset) >= end) break;
            const origin = { topic: this.namespace.logicalTopic(batch.topic), partition: batch.partition, offset: message.offset };
            let event: Envelope;
            try {
              event = this.registry.decode(JSON.parse(message.value?.toString('utf8') ?? 'null'));
            } catch (error) {
              options.onInvalid?.(error, origin);
              continue;
            }
            await options.handler(event, { ...origin, key: message.key?.toString('utf8') ?? null });
            handled += 1;
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

  async health(timeoutMs = 2_000): Promise<BusHealth> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<BusHealth>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, brokers: 0, detail: `no answer from Kafka within ${timeoutMs} ms` }), timeoutMs);
    });
    const probe = (async (): Promise<BusHealth> => {
      try {
        const admin = await this.getAdmin();
        const cluster = await admin.describeCluster();
        return { ok: cluster.brokers.length > 0, brokers: cluster.brokers.length };
      } catch (error) {
        return { ok: false, brokers: 0, detail: describeError(error) };
      }
    })();
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async logIdentity(): Promise<LogIdentity> {
    const admin = await this.getAdmin();
    const { clusterId } = await withRetriableRetry(() => admin.describeCluster());
    return { clusterId, ...(this.namespace.name === undefined ? {} : { namespace: this.namespace.name }) };
  }

  metrics(): MessagingMetrics {
    return { ...this.counters };
  }

  /** @internal used by consumers */
  transactionalProducer(groupId: string): Producer {
    return this.kafka.producer({
      transactionalId: this.namespace.group(`${this.config.clientId}.${groupId}.${this.instanceId}`),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  /** @internal */
  sharedProducer(): Promise<Producer> {
    return this.getProducer();
  }

  /** @internal */
  sharedAdmin(): Promise<Admin> {
    return this.getAdmin();
  }

  /** @internal */
  get registryForConsumers(): EventRegistry {
    return this.registry;
  }

  /** @internal */
  get log(): MessagingLogger {
    return this.logger;
  }
}

class KafkaRunningConsumer implements RunningConsumer {
  private readonly consumer: Consumer;
  private txProducer: Producer | undefined;
  private readonly retry: RetryPolicy;
  private readonly deadLetterTopic: string;
  /** The group and topics as named on the cluster (namespaced); options keep the logical names. */
  private readonly clusterGroupId: string;
  private readonly clusterTopics: readonly string[];
  private readonly positions = new Map<string, bigint>();
  private readonly stopListeners: Array<() => void> = [];
  private running = false;
  private crashed: unknown;
  private transactionTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: KafkaMessageBus,
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly counters: Counters,
  ) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.deadLetterTopic = options.deadLetterTopic ?? TOPICS.deadLetter;
    this.clusterGroupId = bus.namespace.group(options.groupId);
    this.clusterTopics = options.topics.map((topic) => bus.namespace.topic(topic));
    this.consumer = kafka.consumer({
      groupId: this.clusterGroupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
      // A batch that failed to commit (e.g. its transaction aborted) must not stop the consumer
      // for good: kafkajs' default leaves it dead after a non-retriable error. Restart it; the
      // uncommitted messages are delivered again.
      retry: {
        retries: 10,
        initialRetryTime: 300,
        maxRetryTime: 10_000,
        restartOnFailure: async (error: Error) => {
          this.bus.log.error('consumer failed, restarting it', { groupId: options.groupId, error: describeError(error) });
          return this.running;
        },
      },
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  onStop(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.options.transactional) {
      this.txProducer = this.bus.transactionalProducer(this.options.groupId);
      await this.txProducer.connect();
    }
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.clusterTopics], fromBeginning: this.options.fromBeginning ?? true });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Positions of batches with messages advance only when their commit succeeded (in
      // commit()); a batch of only transaction markers has nothing to handle, so it moves the
      // position here and is committed so a restart and lag readers agree.
      if (payload.batchSize === 0) {
        const position = BigInt(payload.lastOffset) + 1n;
        const key = `${payload.topic}/${payload.partition}`;
        if ((this.positions.get(key) ?? -1n) < position) this.positions.set(key, position);
        void this.consumer
          .commitOffsets([{ topic: payload.topic, partition: payload.partition, offset: position.toString() }])
          .catch((error: unknown) => this.bus.log.warn('commit of marker-only batch failed', { error: describeError(error) }));
      }
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crashed = payload.error;
      this.bus.log.error('consumer crashed', {
        groupId: this.options.groupId,
        error: describeError(payload.error),
        restart: payload.restart,
      });
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
    await this.consumer.disconnect();
    await this.txProducer?.disconnect();
    for (const listener of this.stopListeners) listener();
  }

  async whenCaughtUp(options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const admin = await this.bus.sharedAdmin();
    for (;;) {
      const lagging: string[] = [];
      for (const topic of this.clusterTopics) {
        const [ends, committed] = await Promise.all([
          withRetriableRetry(() => admin.fetchTopicOffsets(topic)),
          withRetriableRetry(() => admin.fetchOffsets({ groupId: this.clusterGroupId, topics: [topic] })),
        ]);
        const committedByPartition = new Map(
          (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
        );
        for (const { partition, high } of ends) {
          const key = `${topic}/${partition}`;
          const position = [committedByPartition.get(partition) ?? -1n, this.positions.get(key) ?? -1n].reduce(
            (a, b) => (a > b ? a : b),
          );
          const end = BigInt(high);
          if (end > 0n && position < end) lagging.push(`${key}: at ${position} of ${end}`);
        }
      }
      if (lagging.length === 0) return;
      if (this.crashed) throw new Error(`consumer ${this.options.groupId} crashed: ${describeError(this.crashed)}`);
      if (Date.now() > deadline) {
        throw new Error(`consumer ${this.options.groupId} not caught up: ${lagging.join(', ')}`);
      }
      await sleep(50);
    }
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const outputs: HandlerOutput[] = [];
    // Ids are remembered as handled only once their outputs and offsets are committed: if the
    // commit fails, the redelivered message must be handled again, not dropped as a duplicate.
    const handledIds: string[] = [];
    let lastProcessed: string | undefined;
    // The first offset whose outputs and commit are not yet durable: where to resume on failure.
    let uncommittedFrom = batch.messages[0]?.offset;
    let pendingSince = Date.now();
    // One pacemaker per batch keeps the membership alive through long handlers and retries.
    const pacemaker = setInterval(() => {
      heartbeat().catch(() => undefined);
    }, PACEMAKER_INTERVAL_MS);
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        this.counters.consumed += 1;
        const processed = await this.processMessage(batch.topic, batch.partition, message, heartbeat, handledIds);
        // Stopping mid-retry: leave this message uncommitted so the next owner of the partition redoes it.
        if (processed === INTERRUPTED) break;
        outputs.push(...processed);
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
      this.counters.commitFailures += 1;
      this.bus.log.error('batch not committed; it will be delivered again', {
        groupId: this.options.groupId,
        topic: batch.topic,
        partition: batch.partition,
        from: uncommittedFrom,
        error: describeError(error),
      });
      this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: uncommittedFrom });
      await sleep(backoffDelayMs(this.retry, Math.min(this.counters.commitFailures, 6)));
    } finally {
      clearInterval(pacemaker);
    }
  }

  private async rememberHandled(eventIds: readonly string[]): Promise<void> {
    const dedup = this.options.dedup;
    if (!dedup) return;
    for (const id of eventIds) await dedup.remember(this.options.groupId, id);
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
        if (events.length > 0) await transaction.send({ topic: this.bus.namespace.topic(outTopic), acks: -1, messages: toKafkaMessages(events) });
      }
      const offsets = { consumerGroupId: this.clusterGroupId, topics: [{ topic, partitions: [{ partition, offset: next }] }] };
      await whileTransactionsSettle(() => transaction.sendOffsets(offsets));
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /** Publishes the outputs, then commits the offset after `offset` — atomically when transactional. */
  private async commit(topic: string, partition: number, offset: string, outputs: readonly HandlerOutput[]): Promise<void> {
    const next = (BigInt(offset) + 1n).toString();
    const byTopic = new Map<string, Envelope[]>();
    for (const output of outputs) {
      const list = byTopic.get(output.topic) ?? [];
      list.push(...output.events);
      byTopic.set(output.topic, list);
    }
    if (this.txProducer) {
      // kafkajs allows one open transaction per producer; partitions processed concurrently
      // take turns.
      const previous = this.transactionTurn;
      let release!: () => void;
      this.transactionTurn = new Promise<void>((resolve) => (release = resolve));
      await previous;
      try {
        await this.commitTransaction(this.txProducer, topic, partition, next, byTopic);
      } finally {
        release();
      }
    } else {
      for (const [outTopic, events] of byTopic) await this.bus.publish(outTopic, events);
      await this.consumer.commitOffsets([{ topic, partition, offset: next }]);
    }
    for (const events of byTopic.values()) this.counters.published += this.txProducer ? events.length : 0;
    const key = `${topic}/${partition}`;
    if ((this.positions.get(key) ?? -1n) < BigInt(next)) this.positions.set(key, BigInt(next));
  }

  private async processMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    handledInBatch: string[],
  ): Promise<readonly HandlerOutput[] | typeof INTERRUPTED> {
    const registry = this.bus.registryForConsumers;
    const origin = { topic: this.bus.namespace.logicalTopic(topic), partition, offset: message.offset, key: message.key?.toString('utf8') ?? null };
    const deadLetter = (reason: string, errorClass: DeadLetterErrorClass, attempts: number, event?: Envelope) => {
      this.counters.deadLettered += 1;
      this.bus.log.warn('message dead-lettered', { groupId: this.options.groupId, ...origin, reason, errorClass, attempts });
      const record = buildDeadLetter(registry, {
        origin,
        consumerGroup: this.options.groupId,
        reason,
        errorClass,
        attempts,
        value: message.value,
        failedAt: new Date(),
        source: this.bus.source,
        ...(event ? { event } : {}),
      });
      return [{ topic: this.deadLetterTopic, events: [record] }];
    };

    let event: Envelope;
    try {
      const json: unknown = JSON.parse(message.value?.toString('utf8') ?? '');
      event = registry.decode(json);
    } catch (error) {
      return deadLetter(`undecodable message: ${describeError(error)}`, decodeFailureClass(error), 1);
    }

    const dedup = this.options.dedup;
    if (dedup && (handledInBatch.includes(event.id) || (await dedup.seen(this.options.groupId, event.id)))) {
      this.counters.duplicatesDropped += 1;
      return [];
    }

    for (let attempt = 1; ; attempt += 1) {
      const context: MessageContext = { ...origin, groupId: this.options.groupId, attempt, heartbeat };
      try {
        const produced = (await this.options.handler(event, context)) ?? [];
        this.counters.handled += 1;
        if (dedup) handledInBatch.push(event.id);
        return produced;
      } catch (error) {
        const errorClass = classifyError(error);
        if (errorClass === 'retriable' && !this.running) return INTERRUPTED;
        if (errorClass === 'retriable' && attempt < this.retry.maxAttempts) {
          this.counters.retried += 1;
          const delay = backoffDelayMs(this.retry, attempt);
          this.bus.log.warn('handler failed, retrying', {
            groupId: this.options.groupId,
            ...origin,
            attempt,
            delayMs: delay,
            error: describeError(error),
          });
          await sleep(delay);
          continue;
        }
        const reason =
          errorClass === 'retriable'
            ? `retries exhausted after ${attempt} attempts: ${describeError(error)}`
            : describeError(error);
        return deadLetter(reason, errorClass === 'retriable' ? 'retries_exhausted' : 'terminal', attempt, event);
      }
    }
  }
}
