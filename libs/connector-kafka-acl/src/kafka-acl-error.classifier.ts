import { createErrorMapper } from '@grantline/connector-sdk';
import type { ProviderErrorClassifier, ProviderErrorMapping } from '@grantline/connector-sdk';
import { isAclAdminError } from '@grantline/messaging';

type Mapping = Omit<ProviderErrorMapping, 'providerCode'>;
const retriable = (code: Mapping['code']): Mapping => ({ code, errorClass: 'retriable' });
const terminal = (code: Mapping['code'], message?: string): Mapping => ({ code, errorClass: 'terminal', ...(message === undefined ? {} : { message }) });

/**
 * Kafka's error names (https://kafka.apache.org/protocol#protocol_error_codes) and the ACL admin port's names for
 * failures below the protocol (CONNECTION_ERROR, REQUEST_TIMEOUT, SASL_AUTHENTICATION_FAILED).
 */
const BY_NAME: Readonly<Record<string, Mapping>> = {
  // the cluster is moving or busy: the same call succeeds later
  NETWORK_EXCEPTION: retriable('unavailable'),
  CONNECTION_ERROR: retriable('unavailable'),
  NOT_CONTROLLER: retriable('unavailable'),
  LEADER_NOT_AVAILABLE: retriable('unavailable'),
  NOT_LEADER_OR_FOLLOWER: retriable('unavailable'),
  NOT_LEADER_FOR_PARTITION: retriable('unavailable'),
  BROKER_NOT_AVAILABLE: retriable('unavailable'),
  COORDINATOR_NOT_AVAILABLE: retriable('unavailable'),
  COORDINATOR_LOAD_IN_PROGRESS: retriable('unavailable'),
  KAFKA_STORAGE_ERROR: retriable('unavailable'),
  NOT_ENOUGH_REPLICAS: retriable('unavailable'),
  REQUEST_TIMED_OUT: retriable('timeout'),
  REQUEST_TIMEOUT: retriable('timeout'),
  THROTTLING_QUOTA_EXCEEDED: retriable('rate_limited'),
  // the connector's login may not do this: an operator has to grant it (ALTER and DESCRIBE on the cluster)
  CLUSTER_AUTHORIZATION_FAILED: terminal('permission_denied'),
  TOPIC_AUTHORIZATION_FAILED: terminal('permission_denied'),
  GROUP_AUTHORIZATION_FAILED: terminal('permission_denied'),
  SASL_AUTHENTICATION_FAILED: terminal('permission_denied'),
  ILLEGAL_SASL_STATE: terminal('permission_denied'),
  UNSUPPORTED_SASL_MECHANISM: terminal('permission_denied'),
  POLICY_VIOLATION: terminal('permission_denied'),
  // the broker has no authorizer: it cannot hold an ACL, so nothing granted here would be enforced
  SECURITY_DISABLED: terminal('invalid_request', 'the target broker has no authorizer (SECURITY_DISABLED): ACLs cannot be managed there'),
  INVALID_REQUEST: terminal('invalid_request'),
  UNSUPPORTED_VERSION: terminal('invalid_request'),
  INVALID_TOPIC_EXCEPTION: terminal('invalid_request'),
  UNKNOWN_TOPIC_OR_PARTITION: terminal('not_found'),
  RESOURCE_NOT_FOUND: terminal('not_found'),
  UNKNOWN_SERVER_ERROR: terminal('unknown'),
  CLIENT_ERROR: terminal('unknown'),
};

/** Maps the ACL admin port's errors; anything else falls through to the SDK's socket rules, then `unknown`. */
export const classifyKafkaAclError: ProviderErrorClassifier = (error) => {
  if (!isAclAdminError(error)) return undefined;
  const mapped = BY_NAME[error.kafkaErrorName];
  const providerCode = error.kafkaErrorCode === undefined ? error.kafkaErrorName : `${error.kafkaErrorName}(${error.kafkaErrorCode})`;
  if (mapped !== undefined) return { ...mapped, providerCode };
  // a name this table does not know: the client's own verdict decides, never a silent success
  return { ...(error.retriable ? retriable('unavailable') : terminal('unknown')), providerCode };
};

export const toKafkaAclConnectorError = createErrorMapper(classifyKafkaAclError);
