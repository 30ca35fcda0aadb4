export type {
  BatchConsumerOptions,
  BatchContext,
  BatchHandler,
  BatchReplayOptions,
  BusHealth,
  ConsumerHealth,
  ConsumerOptions,
  ConsumerSettings,
  EventConsumerOptions,
  ConsumerProblem,
  DedupStore,
  EventHandler,
  EventPublisher,
  HandlerOutput,
  LogIdentity,
  LogRecord,
  MessageBus,
  MessageContext,
  MessagingMetrics,
  MessagingObserver,
  HandlerTiming,
  PartitionPosition,
  PartitionEnd,
  RawHeader,
  RawLogRecord,
  RawReplayOptions,
  RecordRef,
  ReplayOptions,
  RetryPolicy,
  RunningConsumer,
  TopicSpec,
} from './ports';
export { RetriableError, TerminalError, classifyError, describeError } from './errors';
export type { ErrorClass } from './errors';
export { deterministicEventId } from './event-id';
export { InMemoryDedupStore } from './dedup';
export { backoffDelayMs, DEFAULT_RETRY_POLICY } from './backoff';
export { decideOnDecodeFailure, decideOnHandlerFailure, isUpstreamTopic } from './failure-policy';
export type { DecodeFailureDecision, HandlerFailureDecision } from './failure-policy';
export { DEFAULT_STALL_AFTER_MS } from './consumer-health';
export { buildDeadLetter, deadLetterIssues, decodeFailureClass, digestOf, safeReason, DEAD_LETTERED_EVENT } from './dead-letter';
export type { DeadLetterInput, DeadLetterOrigin } from './dead-letter';
export { jsonConsoleLogger, silentLogger } from './logger';
export type { MessagingLogger } from './logger';
export { KafkaMessageBus } from './kafka/kafka-bus';
export type { RetentionChange } from './kafka/kafka-admin';
export { TopicRetentionError, creationConfig, retentionProblems } from './topic-retention';
export type { TopicRetentionProblem } from './topic-retention';
export { createLegacyTopics } from './testing/legacy-topics';
export type { LegacyTopic } from './testing/legacy-topics';
export { probeProduce } from './testing/produce-probe';
export type { ProduceProbeOutcome } from './testing/produce-probe';
export { TopicNamespace } from './kafka/topic-namespace';
export type { KafkaBusConfig } from './kafka/kafka-bus';
export { InMemoryMessageBus } from './in-memory/in-memory-bus';
export type { InMemoryBusConfig, RawRecord } from './in-memory/in-memory-bus';
export { InMemoryLog } from './in-memory/in-memory-log';
export type { InMemoryLogOptions } from './in-memory/in-memory-log';
export { DEFAULT_SNAPSHOT_COMPACT_EVERY_MS, DEFAULT_SNAPSHOT_MIN_EVENTS, ReplayedState } from './replayed-state';
export type { FreshnessMark, LogPosition, ReplayReport, ReplayedStateOptions, ReplayedStateSnapshots } from './replayed-state';
export {
  InMemorySnapshotStore,
  SNAPSHOT_CHUNK_BYTES,
  SnapshotUnusableError,
  collectFrames,
  decodeJsonParts,
  encodeJsonParts,
  fromJsonFrame,
  jsonFrame,
  jsonFramesOf,
  nextTurn,
  packSnapshot,
  recordsBeyond,
  snapshotManifest,
  snapshotMismatch,
  unpackSnapshot,
} from './state-snapshot';
export type { SnapshotManifest, SnapshotPositions, SnapshotStore, StateSnapshotCodec } from './state-snapshot';
export { DEFAULT_STATE_LOAD_BACKOFF, StateLoader, StateNotLoadedError, StateReadinessRegistry } from './state-loader';
export type { ClosableState, StateLoadBackoff, StateLoaderOptions, StateReadiness } from './state-loader';
export { LeaseNotHeldError } from './lease';
export type { CampaignOptions, Lease, LeaseElector, LeaseLostListener, LeaseState, LeaseStatus } from './lease';
export { LeaseKeeper, systemLeaseTimers } from './lease-keeper';
export type { LeaseKeeperOptions, LeaseTimers } from './lease-keeper';
export { InProcessLeaseElector } from './in-process-lease';
export { DEFAULT_LEASE_SESSION_TIMEOUT_MS, KafkaLeaseElector, leaseTimings, leaseTopic } from './kafka/kafka-lease';
export type { KafkaLeaseConfig, LeaseTimings } from './kafka/kafka-lease';
// Broker-enforced single writer (docs/adr/0017): SASL logins and the ACLs derived from the topic catalogue.
export {
  KAFKA_ACL_CONNECTOR_SERVICE,
  KAFKA_ACL_MANAGED_PREFIX,
  KAFKA_CLUSTER_RESOURCE,
  catalogueServices,
  connectorPrincipal,
  describeAclBinding,
  isSharedAcrossNamespaces,
  kafkaAclPlan,
} from './acls/kafka-acl-plan';
// The ACL admin port (JIT access to a target's topics: libs/connector-kafka-acl), implemented by KafkaAclAdmin.
export { AclAdminError, isAclAdminError } from './acls/acl-admin.port';
export type { AclAdminPort, AclBindingFilter, DescribedAclBinding } from './acls/acl-admin.port';
export type {
  AclBinding,
  AclOperation,
  AclPatternType,
  AclResourceType,
  ConnectorDeployment,
  KafkaAclPlan,
  KafkaAclPlanOptions,
  KafkaPrincipal,
  PrincipalKind,
} from './acls/kafka-acl-plan';
export { KafkaAclAdmin } from './kafka/kafka-acls';
export { KAFKA_SASL_PASSWORD_ENV, KAFKA_SASL_USERNAME_ENV, kafkaSaslCredentials, kafkaSaslEnv, kafkaSaslFromEnv } from './kafka/kafka-sasl';
export type { KafkaSaslCredentials } from './kafka/kafka-sasl';
export { deploymentTopics, provisionKafkaNamespace } from './acls/provision-namespace';
export { KAFKA_CREDENTIALS_ENV, kafkaNamespaceAccess } from './acls/namespace-access';
export type { KafkaNamespaceAccess, KafkaNamespaceAccessOptions } from './acls/namespace-access';
export type { ProvisionKafkaNamespaceOptions, ProvisionedKafkaNamespace } from './acls/provision-namespace';
export {
  fill,
  isNumber,
  isObject,
  isString,
  isStrings,
  pairsOf,
  setsAsArrays,
  setsOf,
  stringsOf,
  triplesOf,
  withSeenArray,
  withSeenSet,
} from './snapshot-parts';
export { firstSliceOf, markerOf, slicesOf } from './testing/snapshot-frames';
