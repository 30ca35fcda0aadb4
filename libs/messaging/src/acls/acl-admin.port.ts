import type { AclBinding, AclOperation, AclPatternType, AclResourceType } from './kafka-acl-plan';

// The ACL administration a connector needs (JIT access to topics, libs/connector-kafka-acl), transport-neutral:
// callers name bindings in the plan's vocabulary and never see a kafkajs type. `KafkaAclAdmin` implements it.

/** Narrows a describe; an omitted field matches anything. `prefixed` matches PREFIXED bindings by exact name. */
export interface AclBindingFilter {
  readonly principal?: string;
  readonly resourceType?: AclResourceType;
  readonly resourceName?: string;
  readonly patternType?: AclPatternType;
  readonly operation?: AclOperation;
}

/** A binding as the broker holds it: DENY rules and host-restricted rules included (only `*`-host ALLOW rules are created here). */
export interface DescribedAclBinding extends AclBinding {
  readonly permission: 'allow' | 'deny';
  readonly host: string;
}

/** Create, delete and describe ALLOW bindings (host `*`); needs ALTER (create, delete) and DESCRIBE (describe) on the cluster. */
export interface AclAdminPort {
  /** Creates the bindings; a binding that exists already is left as it is (the broker treats it as a no-op). */
  createAcls(bindings: readonly AclBinding[]): Promise<void>;
  /** Deletes exactly these bindings; returns those the broker held and removed. */
  deleteAcls(bindings: readonly AclBinding[]): Promise<DescribedAclBinding[]>;
  describeAcls(filter?: AclBindingFilter): Promise<DescribedAclBinding[]>;
  /** Which of these topics exist (as far as the caller may describe them). */
  existingTopics(topics: readonly string[]): Promise<string[]>;
  disconnect(): Promise<void>;
}

/**
 * A failed ACL admin call, with Kafka's error (`kafkaErrorName` as in the protocol's error table, e.g.
 * `CLUSTER_AUTHORIZATION_FAILED`, and its numeric `kafkaErrorCode`) or, for a failure below the protocol, a name of
 * the client's: `CONNECTION_ERROR`, `REQUEST_TIMEOUT`, `SASL_AUTHENTICATION_FAILED`, `CLIENT_ERROR`.
 */
export class AclAdminError extends Error {
  readonly kafkaErrorName: string;
  readonly kafkaErrorCode: number | undefined;
  /** Whether the client considers the failure transient. */
  readonly retriable: boolean;

  constructor(message: string, details: { kafkaErrorName: string; kafkaErrorCode?: number; retriable: boolean; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AclAdminError';
    this.kafkaErrorName = details.kafkaErrorName;
    this.kafkaErrorCode = details.kafkaErrorCode;
    this.retriable = details.retriable;
  }
}

export function isAclAdminError(error: unknown): error is AclAdminError {
  return error instanceof AclAdminError;
}
