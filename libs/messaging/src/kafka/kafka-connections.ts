import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, ConsumerConfig, Producer } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import type { Counters } from '../counters';
import type { MessagingLogger } from '../logger';
import { toKafkaMessages } from './codec';
import { kafkaLogCreator } from './kafka-log';
import { kafkaSaslFromEnv } from './kafka-sasl';
import type { KafkaSaslCredentials } from './kafka-sasl';
import type { TopicNamespace } from './topic-namespace';

export interface KafkaConnectionsConfig {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Distinguishes transactional producers of several instances of one service. */
  readonly instanceId: string;
  /**
   * SASL/SCRAM-SHA-512 login (a broker with ACLs, ADR 0017); `false`: none (plaintext). Omitted: the process
   * environment's `KAFKA_SASL_USERNAME` / `KAFKA_SASL_PASSWORD` if set (what the test harness exports), else none.
   */
  readonly sasl?: KafkaSaslCredentials | false;
}

/**
 * The kafkajs client and the connections the bus shares: one idempotent producer, one admin, connected on first
 * use (and again after a broker dropped them), plus factories for what each consumer owns.
 */
/**
 * A consumer that commits one transaction and starts the next at once meets CONCURRENT_TRANSACTIONS on the next
 * AddPartitionsToTxn while the coordinator still writes the previous commit's markers (a few milliseconds). kafkajs
 * retries it inside send() with the client's retry, whose first pause (100 ms) capped each partition at about ten
 * transactions a second: the lifecycle's throughput. Retried here after 10 ms, doubling, as the Java client retries it
 * after its 20 ms backoff. Unlimited retries, as kafkajs' default for an idempotent producer (a cap may break EoS).
 */
export const TRANSACTIONAL_SEND_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 10, maxRetryTime: 2_000 } as const;

export class KafkaConnections {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private producerConnecting: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;

  constructor(
    private readonly config: KafkaConnectionsConfig,
    private readonly namespace: TopicNamespace,
    private readonly counters: Counters,
    logger: MessagingLogger,
  ) {
    const sasl = config.sasl === undefined ? kafkaSaslFromEnv() : config.sasl === false ? undefined : config.sasl;
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      ...(sasl === undefined ? {} : { sasl: { mechanism: 'scram-sha-512' as const, username: sasl.username, password: sasl.password } }),
      connectionTimeout: config.connectionTimeoutMs ?? 3_000,
      requestTimeout: config.requestTimeoutMs ?? 30_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    });
  }

  async sharedProducer(): Promise<Producer> {
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

  sharedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (error: unknown) => {
          this.admin = undefined;
          throw error;
        },
      );
    }
    return this.admin;
  }

  /** Publishes to a logical topic with acks=all; resolves once the broker acknowledged. */
  async publish(topic: string, events: readonly Envelope[]): Promise<void> {
    if (events.length === 0) return;
    const producer = await this.sharedProducer();
    await producer.send({ topic: this.namespace.topic(topic), acks: -1, messages: toKafkaMessages(events) });
    this.counters.published += events.length;
  }

  /** A throw-away consumer (replay); `groupId` is already the cluster name. */
  consumer(config: ConsumerConfig): Consumer {
    return this.kafka.consumer(config);
  }

  /**
   * A member of a service's consumer group (`clusterGroupId` is the cluster name), committing by hand and reading
   * committed transactions only. `restartOnFailure` decides whether kafkajs restarts it after a failure.
   */
  groupConsumer(clusterGroupId: string, restartOnFailure: (error: Error) => Promise<boolean>): Consumer {
    return this.kafka.consumer({
      groupId: clusterGroupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
      // A batch that failed to commit (e.g. its transaction aborted) must not stop the consumer
      // for good: kafkajs' default leaves it dead after a non-retriable error. Restart it; the
      // uncommitted messages are delivered again.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure },
    });
  }

  /** A producer of one consumer group's transactions, per service instance (fencing needs a stable id per owner). */
  transactionalProducer(groupId: string): Producer {
    return this.kafka.producer({
      transactionalId: this.namespace.group(`${this.config.clientId}.${groupId}.${this.config.instanceId}`),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: TRANSACTIONAL_SEND_RETRY,
    });
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.producerConnecting = undefined;
    const admin = this.admin;
    this.admin = undefined;
    await Promise.all([
      producer?.disconnect(),
      admin?.then(
        (a) => a.disconnect(),
        () => undefined,
      ),
    ]);
  }
}
