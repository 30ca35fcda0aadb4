import { ConfigResourceTypes, ConfigSource, Kafka, logLevel } from 'kafkajs';
import { TOPICS, connectorCommandsTopic, connectorResultsTopic, createCatalogueRegistry } from '@grantline/contracts';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { silentLogger } from '../logger';
import { createLegacyTopics } from '../testing/legacy-topics';
import { TopicRetentionError } from '../topic-retention';
import { KafkaMessageBus } from './kafka-bus';
import { kafkajsSaslFromEnv } from './kafka-sasl';

const { kafkaBrokers } = infraEndpoints();
const WATCHED = ['retention.ms', 'retention.bytes', 'cleanup.policy', 'max.message.bytes'];

/** What the broker says about a topic's settings, read with kafkajs directly: not through the code under test. */
async function describeTopics(topics: readonly string[]): Promise<Map<string, Record<string, { value: string; topicLevel: boolean }>>> {
  const admin = new Kafka({ clientId: uniqueName('describe'), brokers: kafkaBrokers, logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: WATCHED })),
    });
    return new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, { value: e.configValue, topicLevel: e.configSource === ConfigSource.TOPIC_CONFIG }])),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

describe('lifecycle topic retention on the real broker (describeConfigs)', () => {
  const buses: KafkaMessageBus[] = [];
  /** A bus in a namespace of its own: each case starts from an empty log. */
  const freshBus = (): KafkaMessageBus => {
    const namespace = uniqueName('retention').replace(/_/g, '-').toLowerCase();
    const bus = new KafkaMessageBus({
      clientId: uniqueName('retention'),
      brokers: kafkaBrokers,
      registry: createCatalogueRegistry(),
      logger: silentLogger,
      namespace,
    });
    buses.push(bus);
    return bus;
  };
  afterAll(async () => {
    for (const bus of buses) await bus.deleteNamespace().catch(() => undefined);
    await Promise.all(buses.map((bus) => bus.disconnect()));
  });

  it('given the whole catalogue ensured, then each topic itself sets infinite retention and delete-only, whatever the broker default', async () => {
    const bus = freshBus();
    const catalogue = [...Object.values(TOPICS), connectorCommandsTopic('spec'), connectorResultsTopic('spec')];
    await bus.ensureTopics([...catalogue.map((topic) => ({ topic, partitions: 1 })), { topic: 'spec-scratch', partitions: 1 }]);
    const described = await describeTopics([...catalogue, 'spec-scratch'].map((topic) => bus.namespace.topic(topic)));
    for (const topic of catalogue) {
      const config = described.get(bus.namespace.topic(topic));
      expect([topic, config?.['retention.ms'], config?.['retention.bytes'], config?.['cleanup.policy']]).toEqual([
        topic,
        { value: '-1', topicLevel: true },
        { value: '-1', topicLevel: true },
        { value: 'delete', topicLevel: true },
      ]);
    }
    // A topic outside the catalogue gets nothing of its own.
    expect(described.get(bus.namespace.topic('spec-scratch'))?.['retention.ms']?.topicLevel).toBe(false);
  });

  it('given a lifecycle topic created before the policy with 7 days and another setting, when retained forever, then only the retention changes, once', async () => {
    const bus = freshBus();
    const grants = bus.namespace.topic(TOPICS.grants);
    await createLegacyTopics(kafkaBrokers, [{ topic: grants, configEntries: { 'retention.ms': '604800000', 'max.message.bytes': '2097152' } }]);

    const refused = await bus.ensureTopics([{ topic: TOPICS.grants }]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TopicRetentionError);
    expect((refused as TopicRetentionError).problems).toEqual([
      { topic: TOPICS.grants, clusterTopic: grants, setting: 'retention.ms', actual: '604800000', required: '-1' },
    ]);

    const changes = await bus.retainTopicsForever([TOPICS.grants]);
    expect(changes).toEqual([
      {
        topic: TOPICS.grants,
        clusterTopic: grants,
        changed: [
          { setting: 'retention.ms', from: '604800000', to: '-1' },
          { setting: 'retention.bytes', from: undefined, to: '-1' },
          { setting: 'cleanup.policy', from: undefined, to: 'delete' },
        ],
      },
    ]);
    const after = (await describeTopics([grants])).get(grants);
    expect(after?.['retention.ms']).toEqual({ value: '-1', topicLevel: true });
    // AlterConfigs replaces every topic-level value: the one the topic had must have been sent again.
    expect(after?.['max.message.bytes']).toEqual({ value: '2097152', topicLevel: true });
    expect(await bus.retainTopicsForever([TOPICS.grants])).toEqual([]);
    await expect(bus.ensureTopics([{ topic: TOPICS.grants }])).resolves.toBeUndefined();
  });
});
