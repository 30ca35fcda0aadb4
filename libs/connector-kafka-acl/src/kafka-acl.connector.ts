import { performance } from 'node:perf_hooks';
import { ConnectorError } from '@grantline/connector-sdk';
import type {
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  HealthStatus,
  Membership,
  OperationOutcome,
} from '@grantline/connector-sdk';
import type { AclAdminPort, AclOperation, AclPatternType, DescribedAclBinding } from '@grantline/messaging';
import { bindingsOf, parseKafkaAclEntitlement, refsOf } from './kafka-acl-entitlement';
import type { KafkaAclEntitlement, KafkaAclResource } from './kafka-acl-entitlement';
import { toKafkaAclConnectorError } from './kafka-acl-error.classifier';

export interface KafkaAclConnectorOptions {
  /** Connector id as used in topic names, e.g. `kafka-acl`. */
  readonly id: string;
  /** The target broker's ACL administration (`KafkaAclAdmin` from libs/messaging): a login with ALTER and DESCRIBE on the cluster. */
  readonly admin: AclAdminPort;
  /** Only topics and consumer groups whose name (or prefix pattern) starts with this are granted, revoked or reported, e.g. `jit.`. */
  readonly managedResourcePrefix: string;
  /** Only principals starting with this, e.g. `User:svc-`: a service account `svc-billing` is `User:svc-billing`. */
  readonly managedPrincipalPrefix: string;
}

const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/;
const PRINCIPAL_TYPE = 'User:';

/**
 * JIT access to Kafka topics for service accounts: an entitlement is a set of ACL bindings (see the grammar in
 * kafka-acl-entitlement.ts), provision creates the missing ones, deprovision deletes exactly those, the state report
 * describes the ALLOW bindings in the managed area. Everything outside the managed resource and principal prefixes —
 * Grantline's own ACLs above all — is refused before the broker is asked.
 */
export class KafkaAclConnector implements Connector {
  readonly id: string;
  private readonly admin: AclAdminPort;
  private readonly resourcePrefix: string;
  private readonly principalPrefix: string;

  constructor(options: KafkaAclConnectorOptions) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(options.id)) throw new RangeError(`invalid connector id ${options.id}`);
    // An empty prefix would hand the connector every topic and group of the cluster, the platform's own included.
    if (!/^[A-Za-z0-9._-]{2,100}$/.test(options.managedResourcePrefix)) {
      throw new RangeError(`managedResourcePrefix "${options.managedResourcePrefix}" must be 2-100 of [A-Za-z0-9._-]`);
    }
    if (!options.managedPrincipalPrefix.startsWith(PRINCIPAL_TYPE) || options.managedPrincipalPrefix.length <= PRINCIPAL_TYPE.length) {
      throw new RangeError(`managedPrincipalPrefix "${options.managedPrincipalPrefix}" must be ${PRINCIPAL_TYPE} followed by a non-empty name prefix`);
    }
    this.id = options.id;
    this.admin = options.admin;
    this.resourcePrefix = options.managedResourcePrefix;
    this.principalPrefix = options.managedPrincipalPrefix;
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'kafka-acl',
      displayName: 'Kafka ACLs (JIT topic and consumer-group access)',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: false,
      enforcesExpiry: false,
    };
  }

  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    const { entitlement, principal } = this.managed(op);
    if (!entitlement.grantable) {
      throw new ConnectorError('invalid_request', `${entitlement.ref} names a Kafka operation, not a grantable access: it can be revoked, never granted`);
    }
    return this.call(async () => {
      const wanted = bindingsOf(entitlement, principal);
      const held = await this.held(entitlement, principal);
      const missing = wanted.filter((binding) => !held.has(binding.operation));
      if (missing.length === 0) return { changed: false };
      if (entitlement.resource === 'topic' && entitlement.patternType === 'literal') {
        // an ACL on a topic that does not exist is a typo waiting to be a grant on a topic created later
        const present = await this.admin.existingTopics([entitlement.name]);
        if (present.length === 0) throw new ConnectorError('not_found', `topic ${entitlement.name} does not exist on the target broker`);
      }
      await this.admin.createAcls(missing);
      return { changed: true };
    });
  }

  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    const { entitlement, principal } = this.managed(op);
    return this.call(async () => {
      const held = await this.held(entitlement, principal);
      const present = bindingsOf(entitlement, principal).filter((binding) => held.has(binding.operation));
      if (present.length === 0) return { changed: false };
      const deleted = await this.admin.deleteAcls(present);
      return { changed: deleted.length > 0 };
    });
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    const accounts = scope.accounts === undefined ? undefined : new Set(scope.accounts);
    const wantedRefs = scope.entitlementRefs === undefined ? undefined : new Set(scope.entitlementRefs);
    const onlyAccount = scope.accounts?.length === 1 ? scope.accounts[0] : undefined;
    const described = await this.call(() => this.admin.describeAcls(onlyAccount === undefined ? {} : { principal: `${PRINCIPAL_TYPE}${onlyAccount}` }));
    // one resource pattern of one principal → the operations it holds there
    const groups = new Map<string, { account: string; resource: KafkaAclResource; name: string; patternType: AclPatternType; operations: Set<AclOperation> }>();
    for (const binding of described) {
      if (!this.isManagedBinding(binding)) continue;
      const account = binding.principal.slice(PRINCIPAL_TYPE.length);
      if (accounts !== undefined && !accounts.has(account)) continue;
      const resource = binding.resourceType as KafkaAclResource;
      const key = JSON.stringify([account, resource, binding.resourceName, binding.patternType]);
      const group = groups.get(key) ?? { account, resource, name: binding.resourceName, patternType: binding.patternType, operations: new Set<AclOperation>() };
      group.operations.add(binding.operation);
      groups.set(key, group);
    }
    const memberships: Membership[] = [];
    for (const group of groups.values()) {
      for (const ref of refsOf(group.resource, group.name, group.patternType, group.operations)) {
        if (wantedRefs === undefined || wantedRefs.has(ref)) memberships.push({ account: group.account, entitlementRef: ref });
      }
    }
    memberships.sort((a, b) => a.account.localeCompare(b.account) || a.entitlementRef.localeCompare(b.entitlementRef));
    return { memberships };
  }

  async healthCheck(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      // the narrowest describe the connector's login may make: proves the login and DESCRIBE on the cluster
      await this.call(() => this.admin.describeAcls({ principal: `${this.principalPrefix}health-probe`, resourceType: 'topic' }));
      return { status: 'up', latencyMs: performance.now() - started };
    } catch (error) {
      return { status: 'down', latencyMs: performance.now() - started, error: toKafkaAclConnectorError(error) };
    }
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  /** The entitlement and principal of an operation, or `invalid_request` naming what is outside the managed set. */
  private managed(op: ConnectorOperation): { entitlement: KafkaAclEntitlement; principal: string } {
    const parsed = parseKafkaAclEntitlement(op.entitlementRef);
    if (!parsed.ok) throw new ConnectorError('invalid_request', parsed.problem);
    const { entitlement } = parsed;
    if (!entitlement.name.startsWith(this.resourcePrefix)) {
      throw new ConnectorError('invalid_request', `${entitlement.ref} is outside the resources managed by connector ${this.id} (${this.resourcePrefix}…)`);
    }
    if (!ACCOUNT.test(op.account)) throw new ConnectorError('invalid_request', `account "${op.account}" is not a valid Kafka user name`);
    const principal = `${PRINCIPAL_TYPE}${op.account}`;
    if (!principal.startsWith(this.principalPrefix)) {
      throw new ConnectorError(
        'invalid_request',
        `principal ${principal} is outside the principals managed by connector ${this.id} (${this.principalPrefix}…)`,
      );
    }
    return { entitlement, principal };
  }

  /** The operations the principal holds on exactly this resource pattern (ALLOW, any host). */
  private async held(entitlement: KafkaAclEntitlement, principal: string): Promise<Set<AclOperation>> {
    const described = await this.admin.describeAcls({
      principal,
      resourceType: entitlement.resource,
      resourceName: entitlement.name,
      patternType: entitlement.patternType,
    });
    return new Set(described.filter((binding) => binding.permission === 'allow' && binding.host === '*').map((binding) => binding.operation));
  }

  private isManagedBinding(binding: DescribedAclBinding): boolean {
    return (
      binding.permission === 'allow' &&
      (binding.resourceType === 'topic' || binding.resourceType === 'group') &&
      binding.resourceName.startsWith(this.resourcePrefix) &&
      binding.principal.startsWith(this.principalPrefix)
    );
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toKafkaAclConnectorError(error);
    }
  }
}
