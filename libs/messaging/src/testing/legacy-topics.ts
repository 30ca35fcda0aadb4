import { Kafka, logLevel } from 'kafkajs';
import { kafkajsSaslFromEnv } from '../kafka/kafka-sasl';
import { pause } from '../retry-policy';

export interface LegacyTopic {
  /** The name on the cluster (with any namespace prefix). */
  readonly topic: string;
  readonly partitions?: number;
  readonly configEntries?: Readonly<Record<string, string>>;
}

/**
 * Creates topics exactly as given, past the catalogue's retention policy that `ensureTopics` applies: how a spec
 * stands in for an installation whose topics were created before the policy, or changed by hand. Specs only.
 */
export async function createLegacyTopics(brokers: readonly string[], topics: readonly LegacyTopic[]): Promise<void> {
  const admin = new Kafka({ clientId: 'legacy-topics', brokers: [...brokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).admin();
  await admin.connect();
  try {
    // Not waitForLeaders: right after creation Kafka 4 answers "does not host this topic-partition", which kafkajs
    // does not retry (see KafkaAdmin.ensureTopics). Each partition is awaited below instead.
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions ?? 1,
        replicationFactor: -1,
        configEntries: Object.entries(spec.configEntries ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    // kafkajs answers false, without an error, when a topic was already there: its settings are not the ones given.
    if (!created) throw new Error(`createLegacyTopics: ${topics.map((spec) => spec.topic).join(', ')} already exist(s)`);
    const deadline = Date.now() + 30_000;
    for (const { topic } of topics) {
      for (;;) {
        try {
          await admin.fetchTopicOffsets(topic);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await pause(100);
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}
