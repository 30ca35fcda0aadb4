import { ConfigResourceTypes, ConfigSource } from 'kafkajs';
import { LIFECYCLE_TOPIC_CONFIG, RETENTION_SETTINGS, isLifecycleTopic } from '@grantline/contracts';
import type { RetentionSetting } from '@grantline/contracts';
import type { LogIdentity, TopicSpec } from '../ports';
import { pause } from '../retry-policy';
import { TopicRetentionError, creationConfig, retentionProblems } from '../topic-retention';
import type { TopicRetentionProblem } from '../topic-retention';
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

/** How long a service that may not create a topic waits for its owner to create it. */
export const TOPIC_CREATED_BY_OTHERS_TIMEOUT_MS = 60_000;

const NOT_AUTHORIZED = new Set(['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED']);

/** CreateTopics refused by the authorizer: kafkajs throws one error, or an aggregate with one per topic. */
function isCreateNotAuthorized(error: unknown): boolean {
  const { type, errors } = error as { type?: string; errors?: readonly { type?: string }[] };
  if (type !== undefined && NOT_AUTHORIZED.has(type)) return true;
  return (
    Array.isArray(errors) && errors.length > 0 && errors.every((e) => e.type !== undefined && (NOT_AUTHORIZED.has(e.type) || e.type === 'TOPIC_ALREADY_EXISTS'))
  );
}

/** One partition's end (the offset the next record will get) and start (the oldest offset still kept). */
export interface PartitionEnds {
  readonly partition: number;
  readonly high: bigint;
  readonly low: bigint;
}

/** What `retainForever` set on one topic: each setting's topic-level value before (undefined: none) and now. */
export interface RetentionChange {
  readonly topic: string;
  readonly clusterTopic: string;
  readonly changed: readonly { readonly setting: RetentionSetting; readonly from: string | undefined; readonly to: string }[];
}

/** A topic's configuration: each entry's value and whether the topic itself sets it (an override) or inherits it. */
type TopicConfig = ReadonlyMap<string, { readonly value: string; readonly override: boolean }>;

/**
 * Topics, offsets and the cluster's identity, through the bus's shared admin connection. Takes and returns
 * cluster (namespaced) topic names except where a method says logical.
 */
export class KafkaAdmin {
  constructor(
    private readonly connections: KafkaConnections,
    private readonly namespace: TopicNamespace,
    private readonly defaultPartitions = 3,
    /** How long a principal that may not create a topic waits for its owner to (ADR 0017). */
    private readonly topicCreatedByOthersTimeoutMs = TOPIC_CREATED_BY_OTHERS_TIMEOUT_MS,
  ) {}

  /**
   * Creates the missing topics (logical names) and waits until every partition has a serving leader. Lifecycle
   * topics (the catalogue's) are created keeping every record, and the existing ones are checked: one whose settings
   * let Kafka delete records is refused with a TopicRetentionError naming the topic, the setting and the fix, so a
   * service that reads or writes it does not start (docs/adr/0015).
   */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = await this.connections.sharedAdmin();
    const existing = new Set(await admin.listTopics());
    const onCluster = topics.map((spec) => ({
      ...spec,
      configEntries: creationConfig(spec.topic, spec.configEntries),
      logical: spec.topic,
      topic: this.namespace.topic(spec.topic),
    }));
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
            configEntries: Object.entries(spec.configEntries).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (error) {
        // Several services may create a shared topic at once; losing that race is fine.
        // With ACLs (ADR 0017) only a topic's owner (or the provisioning step) may create it: a reader waits for it.
        if (isCreateNotAuthorized(error)) await this.waitForTopicsCreatedByOthers(missing.map((spec) => spec.topic));
        else if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
      }
    }
    await this.waitForLeaders(onCluster.map((spec) => spec.topic));
    const problems = await this.retentionProblems(onCluster.map((spec) => spec.logical));
    if (problems.length > 0) throw new TopicRetentionError(problems, this.namespace.name);
  }

  /**
   * The settings of lifecycle topics (logical names; default: every lifecycle topic in this namespace) that would
   * let Kafka remove records. Topics outside the catalogue are not looked at.
   */
  async retentionProblems(topics?: readonly string[]): Promise<TopicRetentionProblem[]> {
    const lifecycle = (topics ?? (await this.listTopics())).filter(isLifecycleTopic);
    if (lifecycle.length === 0) return [];
    const configs = await this.describeTopicConfigs(lifecycle.map((topic) => this.namespace.topic(topic)));
    return lifecycle.flatMap((topic) => {
      const clusterTopic = this.namespace.topic(topic);
      const config = configs.get(clusterTopic) ?? new Map();
      const effective = new Map(RETENTION_SETTINGS.map((setting) => [setting, config.get(setting)?.value]));
      return retentionProblems(topic, clusterTopic, effective);
    });
  }

  /**
   * Gives lifecycle topics (logical names; default: every one in this namespace) the catalogue's retention settings
   * as topic-level values, keeping their other overrides; topics that already have them are left alone, so a second
   * run changes nothing. For installations whose topics were created before the policy (`grantline topics
   * retain-forever`).
   */
  async retainForever(topics?: readonly string[]): Promise<RetentionChange[]> {
    const lifecycle = (topics ?? (await this.listTopics())).filter(isLifecycleTopic);
    if (lifecycle.length === 0) return [];
    const admin = await this.connections.sharedAdmin();
    const configs = await this.describeTopicConfigs(lifecycle.map((topic) => this.namespace.topic(topic)));
    const changes: RetentionChange[] = [];
    for (const topic of lifecycle) {
      const clusterTopic = this.namespace.topic(topic);
      const config = configs.get(clusterTopic) ?? new Map();
      const override = (name: string): string | undefined => (config.get(name)?.override === true ? config.get(name)?.value : undefined);
      const changed = RETENTION_SETTINGS.filter((setting) => override(setting) !== LIFECYCLE_TOPIC_CONFIG[setting]).map((setting) => ({
        setting,
        from: override(setting),
        to: LIFECYCLE_TOPIC_CONFIG[setting],
      }));
      if (changed.length === 0) continue;
      // AlterConfigs (the only config write kafkajs has) replaces every topic-level value of the topic: send the
      // overrides it has with ours on top, or the others would silently fall back to the broker's defaults.
      const overrides = new Map([...config].filter(([, entry]) => entry.override).map(([name, entry]) => [name, entry.value]));
      for (const setting of RETENTION_SETTINGS) overrides.set(setting, LIFECYCLE_TOPIC_CONFIG[setting]);
      await withRetriableRetry(() =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: clusterTopic, configEntries: [...overrides].map(([name, value]) => ({ name, value })) }],
        }),
      );
      changes.push({ topic, clusterTopic, changed });
    }
    return changes;
  }

  /** Every configuration entry of each cluster topic, with whether the topic sets it itself. */
  private async describeTopicConfigs(clusterTopics: readonly string[]): Promise<Map<string, TopicConfig>> {
    const admin = await this.connections.sharedAdmin();
    const { resources } = await withRetriableRetry(() =>
      admin.describeConfigs({ includeSynonyms: false, resources: clusterTopics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) }),
    );
    return new Map(
      resources.map((resource) => [
        resource.resourceName,
        new Map(
          resource.configEntries.map((entry) => [entry.configName, { value: entry.configValue, override: entry.configSource === ConfigSource.TOPIC_CONFIG }]),
        ),
      ]),
    );
  }

  /**
   * A principal that may not create a topic (a reader, under ACLs) waits, bounded, for its owner or the deployment's
   * provisioning step (`grantline kafka acls --apply`) to create it: services start in any order.
   */
  private async waitForTopicsCreatedByOthers(clusterTopics: readonly string[], timeoutMs = this.topicCreatedByOthersTimeoutMs): Promise<void> {
    const admin = await this.connections.sharedAdmin();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const absent = clusterTopics.filter((topic) => !existing.has(topic));
      if (absent.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not authorized to create ${absent.join(', ')}, and nobody created ${absent.length === 1 ? 'it' : 'them'} within ${timeoutMs} ms: ` +
            'start the owning service, or create the topics with `grantline kafka acls --apply` (docs/adr/0017)',
        );
      }
      await pause(250);
    }
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
