import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes, logLevel } from 'kafkajs';
import type { Admin, AclEntry, AclFilter } from 'kafkajs';
import { AclAdminError } from '../acls/acl-admin.port';
import type { AclAdminPort, AclBindingFilter, DescribedAclBinding } from '../acls/acl-admin.port';
import type { AclBinding, AclOperation, AclPatternType, AclResourceType } from '../acls/kafka-acl-plan';
import type { KafkaSaslCredentials } from './kafka-sasl';

const RESOURCE: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
  cluster: AclResourceTypes.CLUSTER,
};
const PATTERN: Record<AclPatternType, ResourcePatternTypes> = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED };
const OPERATION: Record<AclOperation, AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  delete: AclOperationTypes.DELETE,
  alter: AclOperationTypes.ALTER,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
  'alter-configs': AclOperationTypes.ALTER_CONFIGS,
  'cluster-action': AclOperationTypes.CLUSTER_ACTION,
  'idempotent-write': AclOperationTypes.IDEMPOTENT_WRITE,
  all: AclOperationTypes.ALL,
};

function inverse<K extends string, V extends number>(map: Record<K, V>): ReadonlyMap<number, K> {
  return new Map(Object.entries(map).map(([name, value]) => [value as number, name as K]));
}
const RESOURCE_NAME = inverse(RESOURCE);
const PATTERN_NAME = inverse(PATTERN);
const OPERATION_NAME = inverse(OPERATION);

/** A binding the broker described, in the plan's vocabulary; undefined for kinds it does not name (delegation tokens, UNKNOWN). */
function fromEntry(entry: AclEntry): DescribedAclBinding | undefined {
  const resourceType = RESOURCE_NAME.get(entry.resourceType);
  const patternType = PATTERN_NAME.get(entry.resourcePatternType);
  const operation = OPERATION_NAME.get(entry.operation);
  if (resourceType === undefined || patternType === undefined || operation === undefined) return undefined;
  const permission = entry.permissionType === AclPermissionTypes.ALLOW ? 'allow' : entry.permissionType === AclPermissionTypes.DENY ? 'deny' : undefined;
  if (permission === undefined) return undefined;
  return { principal: entry.principal, resourceType, resourceName: entry.resourceName, patternType, operation, permission, host: entry.host };
}

/** Kafka's error, from wherever kafkajs put it: the protocol error may be wrapped (`cause`, `originalError`) by its retrier. */
export function toAclAdminError(error: unknown, action: string): AclAdminError {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth += 1) {
    const e = current as { name?: string; type?: unknown; code?: unknown; retriable?: unknown; message?: string; cause?: unknown; originalError?: unknown };
    if (typeof e.type === 'string' && typeof e.code === 'number') {
      return new AclAdminError(`${action}: ${e.type} (${e.code}): ${e.message ?? ''}`, {
        kafkaErrorName: e.type,
        kafkaErrorCode: e.code,
        retriable: e.retriable === true,
        cause: error,
      });
    }
    const clientName = CLIENT_ERRORS[e.name ?? ''];
    if (clientName !== undefined) {
      return new AclAdminError(`${action}: ${clientName}: ${e.message ?? ''}`, {
        kafkaErrorName: clientName.name,
        retriable: clientName.retriable,
        cause: error,
      });
    }
    current = e.cause ?? e.originalError;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AclAdminError(`${action}: ${message}`, { kafkaErrorName: 'CLIENT_ERROR', retriable: false, cause: error });
}

/** Failures below the protocol, by the kafkajs error class. */
const CLIENT_ERRORS: Readonly<Record<string, { readonly name: string; readonly retriable: boolean }>> = {
  KafkaJSConnectionError: { name: 'CONNECTION_ERROR', retriable: true },
  KafkaJSConnectionClosedError: { name: 'CONNECTION_ERROR', retriable: true },
  KafkaJSNoBrokerAvailableError: { name: 'CONNECTION_ERROR', retriable: true },
  KafkaJSBrokerNotFound: { name: 'CONNECTION_ERROR', retriable: true },
  KafkaJSRequestTimeoutError: { name: 'REQUEST_TIMEOUT', retriable: true },
  KafkaJSTimeout: { name: 'REQUEST_TIMEOUT', retriable: true },
  KafkaJSSASLAuthenticationError: { name: 'SASL_AUTHENTICATION_FAILED', retriable: false },
};

function toEntry(binding: AclBinding): AclEntry {
  return {
    principal: binding.principal,
    host: '*',
    resourceType: RESOURCE[binding.resourceType],
    resourceName: binding.resourceName,
    resourcePatternType: PATTERN[binding.patternType],
    operation: OPERATION[binding.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

const key = (entry: Pick<AclEntry, 'principal' | 'resourceType' | 'resourceName' | 'resourcePatternType' | 'operation' | 'permissionType'>): string =>
  [entry.principal, entry.resourceType, entry.resourceName, entry.resourcePatternType, entry.operation, entry.permissionType].join('|');

/**
 * Kafka ACLs through the admin API (kafkajs CreateAcls / DescribeAcls / DeleteAcls). Needs a super user or ALTER
 * (and DESCRIBE) on the cluster. `apply` / `remove` / `countPresent` serve a deployment's plan; the `AclAdminPort`
 * methods serve the Kafka ACL connector and fail with `AclAdminError` only.
 */
export class KafkaAclAdmin implements AclAdminPort {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(config: {
    clientId: string;
    brokers: readonly string[];
    sasl?: KafkaSaslCredentials;
    connectionTimeoutMs?: number;
    requestTimeoutMs?: number;
    /** kafkajs's own retries of retriable errors per call (default 5); a caller with its own retry loop passes fewer. */
    retries?: number;
  }) {
    this.admin = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: config.connectionTimeoutMs ?? 5_000,
      ...(config.requestTimeoutMs === undefined ? {} : { requestTimeout: config.requestTimeoutMs }),
      ...(config.retries === undefined ? {} : { retry: { retries: config.retries, initialRetryTime: 100, maxRetryTime: 2_000 } }),
      ...(config.sasl === undefined ? {} : { sasl: { mechanism: 'scram-sha-512' as const, username: config.sasl.username, password: config.sasl.password } }),
      logLevel: logLevel.NOTHING,
    }).admin();
  }

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    await this.connected;
    return this.admin;
  }

  /** Creates the bindings that do not exist yet (Kafka ignores duplicates, but fewer requests are kinder to it); returns how many were created. */
  async apply(bindings: readonly AclBinding[]): Promise<number> {
    const admin = await this.ready();
    const existing = new Set((await this.existing(admin)).map(key));
    const missing = bindings.map(toEntry).filter((entry) => !existing.has(key(entry)));
    for (let i = 0; i < missing.length; i += 200) await admin.createAcls({ acl: missing.slice(i, i + 200) });
    return missing.length;
  }

  /** Deletes exactly these bindings (a finished test namespace, a retired connector); returns how many matched. */
  async remove(bindings: readonly AclBinding[]): Promise<number> {
    if (bindings.length === 0) return 0;
    const admin = await this.ready();
    let removed = 0;
    for (let i = 0; i < bindings.length; i += 200) {
      const result = await admin.deleteAcls({ filters: bindings.slice(i, i + 200).map(toEntry) });
      removed += result.filterResponses.reduce((sum, response) => sum + response.matchingAcls.length, 0);
    }
    return removed;
  }

  /** How many of these bindings the broker holds now. */
  async countPresent(bindings: readonly AclBinding[]): Promise<number> {
    const existing = new Set((await this.existing(await this.ready())).map(key));
    return bindings.map(toEntry).filter((entry) => existing.has(key(entry))).length;
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    try {
      const admin = await this.ready();
      await admin.createAcls({ acl: bindings.map(toEntry) });
    } catch (error) {
      throw toAclAdminError(error, 'creating ACLs');
    }
  }

  async deleteAcls(bindings: readonly AclBinding[]): Promise<DescribedAclBinding[]> {
    if (bindings.length === 0) return [];
    try {
      const admin = await this.ready();
      const { filterResponses } = await admin.deleteAcls({ filters: bindings.map(toEntry) });
      return filterResponses.flatMap((response) =>
        response.matchingAcls.flatMap((acl) => {
          const described = fromEntry(acl);
          return described === undefined ? [] : [described];
        }),
      );
    } catch (error) {
      throw toAclAdminError(error, 'deleting ACLs');
    }
  }

  async describeAcls(filter: AclBindingFilter = {}): Promise<DescribedAclBinding[]> {
    try {
      const entries = await this.existing(await this.ready(), {
        resourceType: filter.resourceType === undefined ? AclResourceTypes.ANY : RESOURCE[filter.resourceType],
        resourcePatternType: filter.patternType === undefined ? ResourcePatternTypes.ANY : PATTERN[filter.patternType],
        operation: filter.operation === undefined ? AclOperationTypes.ANY : OPERATION[filter.operation],
        permissionType: AclPermissionTypes.ANY,
        ...(filter.resourceName === undefined ? {} : { resourceName: filter.resourceName }),
        ...(filter.principal === undefined ? {} : { principal: filter.principal }),
      });
      return entries.flatMap((entry) => {
        const described = fromEntry(entry);
        return described === undefined ? [] : [described];
      });
    } catch (error) {
      throw toAclAdminError(error, 'describing ACLs');
    }
  }

  async existingTopics(topics: readonly string[]): Promise<string[]> {
    try {
      const present = new Set(await (await this.ready()).listTopics());
      return topics.filter((topic) => present.has(topic));
    } catch (error) {
      throw toAclAdminError(error, 'listing topics');
    }
  }

  private async existing(admin: Admin, filter?: AclFilter): Promise<AclEntry[]> {
    const { resources } = await admin.describeAcls(
      filter ?? {
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    );
    return resources.flatMap((resource) =>
      resource.acls.map((acl) => ({
        ...acl,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        resourcePatternType: resource.resourcePatternType,
      })),
    );
  }

  async disconnect(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) await connected.then(() => this.admin.disconnect()).catch(() => undefined);
  }
}
