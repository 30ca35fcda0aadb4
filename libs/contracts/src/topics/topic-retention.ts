import { isCatalogueTopic } from './topic.catalogue';

/**
 * The topic settings that decide whether a record can ever leave the log, with the value a lifecycle topic must
 * have (docs/adr/0015): the log is the audit trail and the only source every read model and timer is rebuilt from,
 * so nothing may age out (`retention.ms`), be pushed out by size (`retention.bytes`) or be replaced by a later
 * record of the same key (`cleanup.policy=compact`).
 */
export const LIFECYCLE_TOPIC_CONFIG = {
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
} as const;

export type RetentionSetting = keyof typeof LIFECYCLE_TOPIC_CONFIG;

export const RETENTION_SETTINGS = Object.keys(LIFECYCLE_TOPIC_CONFIG) as RetentionSetting[];

/**
 * Whether a topic keeps every record forever. Every catalogue topic does, the connector topics included: each holds
 * facts (a command sent, a result reported, a refused record's reference, a signed checkpoint), none holds
 * replaceable state, so none is compacted. Topics outside the catalogue (a spec's own, the messaging lib's empty
 * lease topics) are left to the caller.
 */
export function isLifecycleTopic(topic: string): boolean {
  return isCatalogueTopic(topic);
}

/** The settings a topic is created with and checked against at start, or undefined when the catalogue sets none. */
export function requiredTopicConfig(topic: string): Readonly<Record<RetentionSetting, string>> | undefined {
  return isLifecycleTopic(topic) ? LIFECYCLE_TOPIC_CONFIG : undefined;
}
