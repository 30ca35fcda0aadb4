import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes, logLevel } from 'kafkajs';
import type { Admin, AclEntry } from 'kafkajs';
import type { AclBinding, AclOperation, AclPatternType, AclResourceType } from '../acls/kafka-acl-plan';
import type { KafkaSaslCredentials } from './kafka-sasl';

const RESOURCE: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
};
const PATTERN: Record<AclPatternType, ResourcePatternTypes> = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED };
const OPERATION: Record<AclOperation, AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
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

/** Kafka ACLs through the admin API (kafkajs CreateAcls / DescribeAcls / DeleteAcls). Needs a super user or ALTER on the cluster. */
export class KafkaAclAdmin {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(config: { clientId: string; brokers: readonly string[]; sasl?: KafkaSaslCredentials; connectionTimeoutMs?: number }) {
    this.admin = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: config.connectionTimeoutMs ?? 5_000,
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

  private async existing(admin: Admin): Promise<AclEntry[]> {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
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
