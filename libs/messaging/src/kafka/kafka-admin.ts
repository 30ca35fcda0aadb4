import type { LogIdentity, TopicSpec } from '../ports';
import { pause } from '../retry-policy';
import type { KafkaConnections } from './kafka-connections';
import type { TopicNamespace } from './topic-namespace';

/**
 * Admin reads right after a topic was created can meet a moving leader ("not the leader for that
 * topic-partition" on Kafka 4). kafkajs marks such errors retriable; retry them briefly here so
 * every caller (replay, lag checks) is spared the special case.
 */
export async function withRetriableRetry<T>(read: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await pause(Math.min(2_000, 100 * 2 ** (attempt - 1)));
    }
  }
}

/** One partition's end (the offset the next record will get) and start (the oldest offset still kept). */
export interface PartitionEnds {
  readonly partition: number;
  readonly high: bigint;
  readonly low: bigint;
}

/**
 * Topics, offsets and the cluster's identity, through the bus's shared admin connection. Takes and returns
 * cluster (namespaced) topic names except where a method says logical.
 */
export class KafkaAdmin {
  constructor(
    private readonly connections: KafkaConnections,
    private readonly namespace: TopicNamespace,
    private readonly defaultPartitions = 3,
  ) {}

  /** Creates the missing topics (logical names) and waits until every partition has a serving leader. */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = await this.connections.sharedAdmin();
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
            numPartitions: spec.partitions ?? this.defaultPartitions,
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

  /** The topics that exist in this namespace, by their logical names. */
  async listTopics(): Promise<string[]> {
    const admin = await this.connections.sharedAdmin();
    const prefix = this.namespace.topic('');
    return (await admin.listTopics())
      .filter((topic) => topic.startsWith(prefix))
      .map((topic) => this.namespace.logicalTopic(topic))
      .sort();
  }

  /**
   * Deletes every topic and consumer group of this namespace: a test platform or a
   * throw-away environment removes its log when it is done, so a long-lived broker does not
   * collect partitions (every one is a directory and open files on the broker). Refused
   * without a namespace: the bare cluster's topics belong to the platform.
   */
  async deleteNamespace(): Promise<{ topics: number; groups: number }> {
    if (this.namespace.name === undefined) throw new Error("deleteNamespace: this bus has no namespace; refusing to delete the cluster's topics");
    const admin = await this.connections.sharedAdmin();
    const prefix = this.namespace.topic('');
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await withRetriableRetry(() => admin.deleteTopics({ topics, timeout: 30_000 }));
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((group) => group.startsWith(prefix));
    if (groups.length > 0) await withRetriableRetry(() => admin.deleteGroups(groups));
    return { topics: topics.length, groups: groups.length };
  }

  private async waitForLeaders(topics: readonly string[], timeoutMs = 30_000): Promise<void> {
    const admin = await this.connections.sharedAdmin();
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
      await pause(100);
    }
  }

  /** Where each partition of a cluster topic starts and ends now. */
  async partitionEnds(topic: string): Promise<PartitionEnds[]> {
    const admin = await this.connections.sharedAdmin();
    const offsets = await withRetriableRetry(() => admin.fetchTopicOffsets(topic));
    return offsets.map(({ partition, high, low }) => ({ partition, high: BigInt(high), low: BigInt(low) }));
  }

  /** The group's committed position per partition of a cluster topic (-1 where it committed nothing). */
  async committedOffsets(clusterGroupId: string, topic: string): Promise<Map<number, bigint>> {
    const admin = await this.connections.sharedAdmin();
    const committed = await withRetriableRetry(() => admin.fetchOffsets({ groupId: clusterGroupId, topics: [topic] }));
    return new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  /** The number of brokers that answer; throws when none does. */
  async brokerCount(): Promise<number> {
    const admin = await this.connections.sharedAdmin();
    return (await admin.describeCluster()).brokers.length;
  }

  async logIdentity(): Promise<LogIdentity> {
    const admin = await this.connections.sharedAdmin();
    const { clusterId } = await withRetriableRetry(() => admin.describeCluster());
    return { clusterId, ...(this.namespace.name === undefined ? {} : { namespace: this.namespace.name }) };
  }
}
