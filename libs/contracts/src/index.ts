// The public API of @grantline/contracts: the envelope, the registry, the topic catalogue and every event schema.

// envelope and errors
export {
  ActorSchema,
  CloudEventSchema,
  EnvelopeSchema,
  EVENT_NAME_PATTERN,
  EVENT_TYPE_PATTERN,
  fromCloudEvent,
  toCloudEvent,
} from './envelope/envelope.schema';
export type { CloudEvent } from './envelope/envelope.schema';
export type { Actor, Envelope, EnvelopeMeta } from './envelope/envelope.schema';
export { refOf } from './envelope/event-refs';
export type { EventRef } from './envelope/event-refs';
export { ContractViolationError, toContractIssues } from './errors/contract-violation.error';
export type { ContractIssue } from './errors/contract-violation.error';
export { UnknownEventTypeError } from './errors/unknown-event-type.error';

// definitions and registry
export { defineEvent, isEvent, topicOf } from './registry/event-definition';
export type { DataOf, EnvelopeOf, EventDefinition, TypeOf } from './registry/event-definition';
export { EventRegistry } from './registry/event.registry';
export type { DecodeOptions, Upcaster } from './registry/event.registry';
export { CATALOGUE, createCatalogueRegistry, registry } from './registry/catalogue';
export type { CatalogueEvent, CatalogueEventType } from './registry/catalogue';

// topics
export {
  CONNECTOR_ID_PLACEHOLDER,
  CONNECTOR_TOPIC_OWNERS,
  TOPIC_OWNERS,
  TOPICS,
  connectorCommandsTopic,
  connectorIdOfTopic,
  connectorResultsTopic,
  isCatalogueTopic,
  ownerOfTopic,
} from './topics/topic.catalogue';
export type { ConnectorCommandsTopic, ConnectorResultsTopic, TopicKey, TopicName } from './topics/topic.catalogue';
export { CONNECTOR_TOPIC_READERS, TOPIC_READERS } from './topics/topic-readers';
export { LIFECYCLE_TOPIC_CONFIG, RETENTION_SETTINGS, isLifecycleTopic, requiredTopicConfig } from './topics/topic-retention';
export type { RetentionSetting } from './topics/topic-retention';

// shared building blocks
export * from './common/primitives.schema';
export { isSecretLikeKey, withoutSecrets } from './common/no-secrets.schema';

// the catalogue, one area per folder
export * from './requests/request-submitted.schema';
export * from './requests/request-withdrawn.schema';
export * from './requests/revocation-requested.schema';
export * from './identities/identity.schema';
export * from './identities/ownership-transfer.schema';
export * from './catalog/catalog-published.schema';
export * from './policy/decision-recorded.schema';
export * from './policy/sod-violation.schema';
export * from './policy/review-items-evaluated.schema';
export * from './approvals/approval.schema';
export * from './approvals/review.schema';
export * from './approvals/certification.schema';
export * from './grants/grant.schema';
export * from './grants/grant-rotation.schema';
export * from './grants/account-deactivation.schema';
export * from './grants/grant-expiry-shortened.schema';
export * from './connectors/connector.schema';
export * from './connectors/rotation.schema';
export * from './connectors/account-deactivation.schema';
export * from './connectors/connector-access-denied.schema';
export * from './schedule/timer-fired.schema';
export * from './itsm/itsm.schema';
export * from './itsm/servicenow-catalog-item.schema';
export * from './dead-letter/dead-lettered.schema';
export * from './dead-letter/dead-letter-republished.schema';
export { claimedEvent, REDACTED, withoutJsonSnippet, withoutValues } from './dead-letter/dead-letter-reference';
export { sha256Hex } from './common/sha256';
export * from './notifications/notification-requested.schema';
export * from './audit/checkpoint-signed.schema';
export * from './audit/log-checkpointed.schema';
export * from './control/access-denied.schema';

// fixtures: valid example data for every event type, for other teams' tests
export * from './fixtures/event.fixtures';
export * from './fixtures/lifecycle-story.fixture';
