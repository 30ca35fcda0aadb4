import type { TopicKey } from './topic.catalogue';

/**
 * Who consumes each topic besides its owner (the owner always reads its own topics: replays rebuild its state).
 * The Kafka ACLs are generated from this table and `TOPIC_OWNERS` (docs/adr/0017), so a service that starts
 * consuming a topic adds itself here, or the broker refuses it. Taken from what each app subscribes to: its
 * `@EventPattern` / `@EventBatchPattern` event types (each event type has one topic in the registry) and the topics it
 * replays. `itsm-upstream` (the external ITSM bridge) reads the status topic to update its tickets.
 */
export const TOPIC_READERS: Readonly<Record<TopicKey, readonly string[]>> = {
  requests: ['policy', 'approval', 'provisioning', 'audit'],
  identities: ['policy', 'approval', 'provisioning', 'scheduler', 'audit'],
  catalog: ['policy', 'approval', 'provisioning', 'audit'],
  policyBundles: ['audit'],
  decisions: ['approval', 'intake', 'audit'],
  approvals: ['policy', 'provisioning', 'scheduler', 'notifier', 'intake', 'audit'],
  grants: ['policy', 'approval', 'scheduler', 'notifier', 'intake', 'audit'],
  schedule: ['approval', 'provisioning', 'audit'],
  audit: [],
  notifications: [],
  itsmInbound: ['intake'],
  itsmStatus: ['itsm-upstream'],
  deadLetter: ['intake', 'audit'],
};

/** Readers of every connector's topics besides the connector itself: provisioning acts on the results, audit records both. */
export const CONNECTOR_TOPIC_READERS = { commands: ['audit'], results: ['provisioning', 'audit'] } as const;
