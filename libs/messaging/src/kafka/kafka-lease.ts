import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { newCounters } from '../counters';
import { describeError } from '../errors';
import type { CampaignOptions, Lease, LeaseElector } from '../lease';
import { LeaseKeeper } from '../lease-keeper';
import type { LeaseTimers } from '../lease-keeper';
import type { MessagingLogger } from '../logger';
import { jsonConsoleLogger } from '../logger';
import { KafkaAdmin } from './kafka-admin';
import { KafkaConnections } from './kafka-connections';
import { leaseAssigner } from './lease-assigner';
import { TopicNamespace } from './topic-namespace';
import type { KafkaSaslCredentials } from './kafka-sasl';

/** Bounds the takeover after the holder dies without a word (`kill -9`, a lost host). */
export const DEFAULT_LEASE_SESSION_TIMEOUT_MS = 10_000;

/** The single-partition topic (logical name) whose consumer group elects the holder of the named lease. */
export const leaseTopic = (name: string): string => `grantline.lease.${name}`;

export interface LeaseTimings {
  readonly sessionTimeoutMs: number;
  /** How often every candidate heartbeats (the holder renews its lease with each one). */
  readonly heartbeatIntervalMs: number;
  /** The holder gives the lease up this long before the coordinator could hand it on. */
  readonly safetyMarginMs: number;
  /** Longest wait of one fetch of the (empty) lease partition: heartbeats go out between fetches. */
  readonly maxWaitTimeMs: number;
}

/** A tenth of the session between heartbeats; the holder stops trusting its lease 30% of the session (at least two heartbeats) early. */
export function leaseTimings(sessionTimeoutMs: number): LeaseTimings {
  const heartbeatIntervalMs = Math.max(100, Math.floor(sessionTimeoutMs / 10));
  return {
    sessionTimeoutMs,
    heartbeatIntervalMs,
    safetyMarginMs: Math.max(2 * heartbeatIntervalMs, Math.floor(sessionTimeoutMs * 0.3)),
    maxWaitTimeMs: Math.min(heartbeatIntervalMs, 500),
  };
}

export interface KafkaLeaseConfig {
  readonly clientId: string;
  readonly brokers: readonly string[];
  /** The bus's namespace: the lease topic and group carry it, so each environment elects its own holders. */
  readonly namespace?: string;
  readonly logger?: MessagingLogger;
  /** Session timeout of the lease group (default 10 s; the broker accepts 6 s to 30 min unless configured otherwise). */
  readonly sessionTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly timers?: LeaseTimers;
  /** As KafkaBusConfig.sasl: the service's own login (its ACLs cover its lease topic and group). */
  readonly sasl?: KafkaSaslCredentials | false;
}

/**
 * Leases held through the broker itself, no other component: each candidate joins the consumer group of a
 * single-partition topic per lease (`grantline.lease.<name>` in the namespace) and the member assigned partition 0
 * holds the lease (the assigner keeps it where it is and otherwise picks the longest-waiting standby). The topic
 * stays empty; the group's session timeout bounds how long a dead holder keeps the lease, and the holder renews it
 * with every accepted heartbeat (`LeaseKeeper`), so it knows it lost it before the coordinator can hand it on.
 */
export class KafkaLeaseElector implements LeaseElector {
  private readonly namespace: TopicNamespace;
  private readonly logger: MessagingLogger;
  private readonly connections: KafkaConnections;
  private readonly admin: KafkaAdmin;
  private readonly timings: LeaseTimings;
  private readonly leases = new Set<Lease>();

  constructor(private readonly config: KafkaLeaseConfig) {
    this.namespace = new TopicNamespace(config.namespace);
    this.logger = config.logger ?? jsonConsoleLogger;
    this.timings = leaseTimings(config.sessionTimeoutMs ?? DEFAULT_LEASE_SESSION_TIMEOUT_MS);
    this.connections = new KafkaConnections(
      {
        clientId: config.clientId,
        brokers: config.brokers,
        instanceId: randomUUID(),
        ...(config.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: config.connectionTimeoutMs } : {}),
        ...(config.sasl !== undefined ? { sasl: config.sasl } : {}),
      },
      this.namespace,
      newCounters(),
      this.logger,
    );
    this.admin = new KafkaAdmin(this.connections, this.namespace, 1);
  }

  get settings(): LeaseTimings {
    return this.timings;
  }

  async campaign(options: CampaignOptions): Promise<Lease> {
    const topic = leaseTopic(options.name);
    await this.admin.ensureTopics([{ topic, partitions: 1 }]);
    const clusterTopic = this.namespace.topic(topic);
    const timers = this.config.timers;
    const now = (): number => (timers ? timers.now() : Date.now());
    const campaigningSince = now();
    // Created below, after the keeper its assigner asks; leaving before it exists leaves nothing.
    const client: { consumer?: Consumer } = {};
    let leaving: Promise<void> | undefined;
    const leave = (): Promise<void> =>
      (leaving ??= (client.consumer?.disconnect() ?? Promise.resolve()).catch((error: unknown) =>
        this.logger.warn('leaving the lease group failed; the coordinator drops the member after its session timeout', {
          lease: options.name,
          error: describeError(error),
        }),
      ));
    const keeper = new LeaseKeeper({
      ...options,
      sessionTimeoutMs: this.timings.sessionTimeoutMs,
      safetyMarginMs: this.timings.safetyMarginMs,
      // Room for two heartbeats: the lease is renewed before it could run out.
      minimumToActMs: 2 * this.timings.heartbeatIntervalMs,
      ...(timers ? { timers } : {}),
      onRelease: () => {
        this.leases.delete(keeper);
        return leave();
      },
    });
    // A holder that lost the lease leaves the group at once, so the assigner cannot pick it again.
    keeper.onLost(() => void leave());
    const consumer = this.connections.consumer({
      groupId: this.namespace.group(topic),
      sessionTimeout: this.timings.sessionTimeoutMs,
      // A holder kept out of a rebalance for longer than this is out; no longer than the session, so its own clock runs out first.
      rebalanceTimeout: this.timings.sessionTimeoutMs,
      heartbeatInterval: this.timings.heartbeatIntervalMs,
      maxWaitTimeInMs: this.timings.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      partitionAssigners: [leaseAssigner(() => ({ instanceId: options.instanceId, ...keeper.claim(), campaigningSince }))],
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => keeper.claim().eligible },
    });
    client.consumer = consumer;
    this.watch(consumer, keeper, clusterTopic, now);
    this.leases.add(keeper);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [clusterTopic], fromBeginning: false });
      // The lease topic stays empty: membership is the point, not its messages.
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    } catch (error) {
      await keeper.release();
      throw error;
    }
    return keeper;
  }

  /** Releases every lease this elector handed out and closes its connections. */
  async close(): Promise<void> {
    await Promise.all([...this.leases].map((lease) => lease.release()));
    await this.connections.disconnect();
  }

  /** What the coordinator says, to the keeper: assignments, accepted heartbeats (with when they were sent), crashes. */
  private watch(consumer: Consumer, keeper: LeaseKeeper, clusterTopic: string, now: () => number): void {
    let heartbeatSentAt: number | undefined;
    // Emitted when the answer arrives, before kafkajs looks at its error code; HEARTBEAT follows only for an accepted one.
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Heartbeat') heartbeatSentAt = payload.sentAt;
    });
    consumer.on(consumer.events.HEARTBEAT, () => {
      if (heartbeatSentAt !== undefined) keeper.confirmed(heartbeatSentAt);
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      keeper.campaigning();
      const holds = (payload.memberAssignment[clusterTopic] ?? []).includes(0);
      // The join began `duration` ago: the coordinator heard from this member no earlier than that.
      keeper.assignment(holds, now() - payload.duration);
      this.logger.debug('lease group joined', { lease: keeper.name, instanceId: keeper.instanceId, memberId: payload.memberId, holds, state: keeper.state });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      keeper.failed(`the lease client crashed: ${describeError(payload.error)}`);
      this.logger.warn('lease client crashed', { lease: keeper.name, restart: payload.restart, error: describeError(payload.error) });
    });
    consumer.on(consumer.events.STOP, () => keeper.failed('the lease client stopped'));
  }
}
