import { randomUUID } from 'node:crypto';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { withConsumerHealth } from '../bus-health';
import type { Counters } from '../counters';
import { newCounters } from '../counters';
import { describeError } from '../errors';
import type { MessagingLogger } from '../logger';
import { jsonConsoleLogger } from '../logger';
import type {
  BatchReplayOptions,
  BusHealth,
  ConsumerOptions,
  EventPublisher,
  LogIdentity,
  LogRecord,
  MessageBus,
  MessagingMetrics,
  MessagingObserver,
  PartitionEnd,
  RawReplayOptions,
  RecordRef,
  ReplayOptions,
  RunningConsumer,
  TopicSpec,
} from '../ports';
import { KafkaRunningConsumer } from './consumer-runner';
import { KafkaAdmin } from './kafka-admin';
import type { RetentionChange } from './kafka-admin';
import type { TopicRetentionProblem } from '../topic-retention';
import { KafkaConnections } from './kafka-connections';
import type { KafkaSaslCredentials } from './kafka-sasl';
import { KafkaRecordReader } from './record-reader';
import { KafkaReplay } from './replay';
import { TopicNamespace } from './topic-namespace';

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
  /** Under ACLs, how long `ensureTopics` waits for the owner of a topic this principal may not create (default 60 s). */
  readonly topicCreatedByOthersTimeoutMs?: number;
  /** SASL/SCRAM-SHA-512 login; `false`: none; omitted: KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD from the environment if set (see KafkaConnectionsConfig). */
  readonly sasl?: KafkaSaslCredentials | false;
  /** Told how long every handler call of this bus's consumers took (the service's metrics). */
  readonly observer?: MessagingObserver;
}

/**
 * Kafka transport on kafkajs, the MessageBus port's facade: it owns the connections and the running consumers and
 * hands the work to its collaborators — KafkaAdmin (topics, offsets, identity), KafkaRunningConsumer (the group
 * consumer loop), KafkaReplay (reads from the beginning). Publishing is idempotent with acks=all.
 */
export class KafkaMessageBus implements MessageBus {
  readonly namespace: TopicNamespace;
  private readonly logger: MessagingLogger;
  private readonly registry: EventRegistry;
  private readonly connections: KafkaConnections;
  private readonly admin: KafkaAdmin;
  private readonly replayer: KafkaReplay;
  private readonly reader: KafkaRecordReader;
  private readonly consumers = new Set<KafkaRunningConsumer>();
  private readonly counters: Counters = newCounters();

  readonly publisher: EventPublisher = {
    publish: (topic, events) => this.publish(topic, events),
  };

  constructor(private readonly config: KafkaBusConfig) {
    this.logger = config.logger ?? jsonConsoleLogger;
    this.registry = config.registry;
    this.namespace = new TopicNamespace(config.namespace);
    this.connections = new KafkaConnections(
      {
        clientId: config.clientId,
        brokers: config.brokers,
        instanceId: config.instanceId ?? randomUUID(),
        ...(config.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: config.connectionTimeoutMs } : {}),
        ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
        ...(config.sasl !== undefined ? { sasl: config.sasl } : {}),
      },
      this.namespace,
      this.counters,
      this.logger,
    );
    this.admin = new KafkaAdmin(this.connections, this.namespace, config.defaultPartitions, config.topicCreatedByOthersTimeoutMs);
    this.replayer = new KafkaReplay(this.connections, this.admin, this.namespace, this.registry, config.clientId);
    this.reader = new KafkaRecordReader(this.connections, this.admin, this.namespace, config.clientId);
  }

  get source(): string {
    return `grantline/${this.config.clientId}`;
  }

  async connect(): Promise<void> {
    await this.connections.sharedProducer();
    await this.connections.sharedAdmin();
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    await this.connections.disconnect();
  }

  async publish(topic: string, events: readonly Envelope[]): Promise<void> {
    await this.connections.publish(topic, events);
  }

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return this.admin.ensureTopics(topics);
  }

  /** The topics that exist in this bus's namespace, by their logical names. */
  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  /** Settings of lifecycle topics (default: every one in this namespace) that would let Kafka remove records (see KafkaAdmin). */
  topicRetentionProblems(topics?: readonly string[]): Promise<TopicRetentionProblem[]> {
    return this.admin.retentionProblems(topics);
  }

  /** Gives lifecycle topics (default: every one in this namespace) the catalogue's retention settings; idempotent (see KafkaAdmin). */
  retainTopicsForever(topics?: readonly string[]): Promise<RetentionChange[]> {
    return this.admin.retainForever(topics);
  }

  /** Deletes every topic and consumer group of this bus's namespace (see KafkaAdmin); refused without one. */
  deleteNamespace(): Promise<{ topics: number; groups: number }> {
    return this.admin.deleteNamespace();
  }

  async consume(options: ConsumerOptions): Promise<RunningConsumer> {
    const consumer = new KafkaRunningConsumer(
      {
        connections: this.connections,
        admin: this.admin,
        namespace: this.namespace,
        registry: this.registry,
        logger: this.logger,
        counters: this.counters,
        source: this.source,
        ...(this.config.observer === undefined ? {} : { observer: this.config.observer }),
      },
      options,
    );
    this.consumers.add(consumer);
    consumer.onStop(() => this.consumers.delete(consumer));
    await consumer.start();
    return consumer;
  }

  replay(options: ReplayOptions): Promise<number> {
    return this.replayer.run(options);
  }

  replayBatches(options: BatchReplayOptions): Promise<number> {
    return this.replayer.run(options);
  }

  replayRaw(options: RawReplayOptions): Promise<number> {
    return this.replayer.runRaw(options);
  }

  async endOffsets(topics: readonly string[]): Promise<PartitionEnd[]> {
    // On the decision path (the freshness fence): the topics' offsets are asked for side by side, not one by one.
    const existing = new Set(await this.admin.listTopics());
    const perTopic = await Promise.all(
      topics
        .filter((name) => existing.has(name))
        .map(async (topic) =>
          (await this.admin.partitionEnds(this.namespace.topic(topic))).map(({ partition, high }) => ({ topic, partition, end: high.toString() })),
        ),
    );
    return perTopic.flat();
  }

  /** Records read back by reference (logical topics), undecoded; undefined for one the log no longer holds. */
  readRecords(refs: readonly RecordRef[]): Promise<(LogRecord | undefined)[]> {
    return this.reader.read(refs);
  }

  /**
   * Ready when a broker answers within `timeoutMs` and no consumer of this bus is halted, stalled or crashed: a
   * service that cannot make progress on its partitions must not look healthy.
   */
  async health(timeoutMs = 2_000): Promise<BusHealth> {
    const consumers = [...this.consumers].map((consumer) => consumer.health());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<BusHealth>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, brokers: 0, detail: `no answer from Kafka within ${timeoutMs} ms` }), timeoutMs);
    });
    const probe = this.admin.brokerCount().then(
      (brokers): BusHealth => ({ ok: brokers > 0, brokers }),
      (error: unknown): BusHealth => ({ ok: false, brokers: 0, detail: describeError(error) }),
    );
    try {
      return withConsumerHealth(await Promise.race([probe, timeout]), consumers);
    } finally {
      clearTimeout(timer);
    }
  }

  logIdentity(): Promise<LogIdentity> {
    return this.admin.logIdentity();
  }

  metrics(): MessagingMetrics {
    return { ...this.counters };
  }
}
