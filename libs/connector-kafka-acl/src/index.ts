export { KafkaAclConnector } from './kafka-acl.connector';
export type { KafkaAclConnectorOptions } from './kafka-acl.connector';
export { GRANTABLE_ACCESS, bindingsOf, formatEntitlementRef, kafkaAclEntitlementSchema, parseKafkaAclEntitlement, refsOf } from './kafka-acl-entitlement';
export type { KafkaAclEntitlement, KafkaAclResource } from './kafka-acl-entitlement';
export { classifyKafkaAclError, toKafkaAclConnectorError } from './kafka-acl-error.classifier';
