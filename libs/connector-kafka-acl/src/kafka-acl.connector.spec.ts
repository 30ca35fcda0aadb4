import { ConnectorError, idempotencyKeyOf } from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import type { AclAdminPort, AclBinding, AclBindingFilter, DescribedAclBinding } from '@grantline/messaging';
import { KafkaAclConnector } from './kafka-acl.connector';

/** The broker's ACL table in memory: what the port would create, delete and describe. */
class InMemoryAclAdmin implements AclAdminPort {
  readonly acls: DescribedAclBinding[] = [];
  readonly topics = new Set<string>(['jit.orders', 'iga.requests.v1']);
  calls: string[] = [];

  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    this.calls.push('create');
    for (const binding of bindings) if (!this.acls.some((acl) => same(acl, binding))) this.acls.push({ ...binding, permission: 'allow', host: '*' });
  }

  async deleteAcls(bindings: readonly AclBinding[]): Promise<DescribedAclBinding[]> {
    this.calls.push('delete');
    const deleted = this.acls.filter((acl) => acl.permission === 'allow' && bindings.some((binding) => same(acl, binding)));
    for (const acl of deleted) this.acls.splice(this.acls.indexOf(acl), 1);
    return deleted;
  }

  async describeAcls(filter: AclBindingFilter = {}): Promise<DescribedAclBinding[]> {
    return this.acls.filter((acl) => (Object.keys(filter) as (keyof AclBindingFilter)[]).every((key) => filter[key] === undefined || acl[key] === filter[key]));
  }

  async existingTopics(topics: readonly string[]): Promise<string[]> {
    return topics.filter((topic) => this.topics.has(topic));
  }

  async disconnect(): Promise<void> {}
}

const same = (a: AclBinding, b: AclBinding): boolean =>
  a.principal === b.principal &&
  a.resourceType === b.resourceType &&
  a.resourceName === b.resourceName &&
  a.patternType === b.patternType &&
  a.operation === b.operation;

const op = (operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation => ({
  grantId: 'g-1',
  operation,
  idempotencyKey: idempotencyKeyOf('g-1', operation),
  account,
  entitlementRef,
});

describe('KafkaAclConnector (in-memory ACL table)', () => {
  let admin: InMemoryAclAdmin;
  let connector: KafkaAclConnector;

  beforeEach(() => {
    admin = new InMemoryAclAdmin();
    connector = new KafkaAclConnector({ id: 'kafka-acl', admin, managedResourcePrefix: 'jit.', managedPrincipalPrefix: 'User:svc-' });
  });

  it('grants the bindings of a ref once, and revokes exactly those', async () => {
    admin.acls.push({
      principal: 'User:svc-a',
      resourceType: 'topic',
      resourceName: 'jit.orders',
      patternType: 'literal',
      operation: 'read',
      permission: 'allow',
      host: '*',
    });
    await expect(connector.provision(op('provision', 'svc-a', 'topic:jit.orders:write'))).resolves.toEqual({ changed: true });
    await expect(connector.provision(op('provision', 'svc-a', 'topic:jit.orders:write'))).resolves.toEqual({ changed: false });
    expect(admin.calls).toEqual(['create']);
    await expect(connector.deprovision(op('deprovision', 'svc-a', 'topic:jit.orders:write'))).resolves.toEqual({ changed: true });
    await expect(connector.deprovision(op('deprovision', 'svc-a', 'topic:jit.orders:write'))).resolves.toEqual({ changed: false });
    // the read it did not grant is left alone
    expect(admin.acls.map((acl) => acl.operation)).toEqual(['read']);
  });

  it("refuses the platform's own resources and principals before asking the broker", async () => {
    const refusals = [
      op('provision', 'svc-a', 'topic:iga.requests.v1:write'),
      op('deprovision', 'svc-a', 'topic:iga.*:read'),
      op('provision', 'svc-a', 'group:provisioning:read'),
      op('provision', 'intake', 'topic:jit.orders:write'),
      op('deprovision', 'connector:kafka-acl', 'topic:jit.orders:write'),
      op('provision', 'svc-a', 'topic:jit*:write'),
      op('provision', 'svc-a', 'cluster:kafka-cluster:alter'),
      op('provision', 'svc-a', 'topic:jit.orders:all'),
    ];
    for (const refused of refusals) {
      const error = await (refused.operation === 'provision' ? connector.provision(refused) : connector.deprovision(refused)).catch((e: unknown) => e);
      expect({ ref: refused.entitlementRef, account: refused.account, error }).toEqual({
        ref: refused.entitlementRef,
        account: refused.account,
        error: expect.objectContaining({ code: 'invalid_request', errorClass: 'terminal' }),
      });
      expect(error).toBeInstanceOf(ConnectorError);
    }
    expect(admin.calls).toEqual([]);
  });

  it('answers a literal topic that does not exist with not_found, creating nothing', async () => {
    await expect(connector.provision(op('provision', 'svc-a', 'topic:jit.missing:read'))).rejects.toMatchObject({ code: 'not_found' });
    // a prefix and a consumer group need no topic
    await expect(connector.provision(op('provision', 'svc-a', 'topic:jit.later.*:read'))).resolves.toEqual({ changed: true });
    await expect(connector.provision(op('provision', 'svc-a', 'group:jit.consumers:read'))).resolves.toEqual({ changed: true });
    expect(admin.acls).toHaveLength(2);
  });

  it('reports every managed ALLOW rule, hand-made ones by their operation, and nothing of the platform', async () => {
    await connector.provision(op('provision', 'svc-a', 'topic:jit.orders:write'));
    const allow = (principal: string, resourceName: string, operation: DescribedAclBinding['operation'], extra: Partial<DescribedAclBinding> = {}): void =>
      void admin.acls.push({ principal, resourceType: 'topic', resourceName, patternType: 'literal', operation, permission: 'allow', host: '*', ...extra });
    allow('User:svc-b', 'jit.orders', 'all'); // added by hand
    allow('User:svc-b', 'jit.orders', 'read', { permission: 'deny' }); // a DENY grants nothing
    allow('User:intake', 'iga.requests.v1', 'write'); // the platform's own
    allow('User:svc-a', 'iga.requests.v1', 'read'); // outside the managed resources
    expect((await connector.listActualState()).memberships).toEqual([
      { account: 'svc-a', entitlementRef: 'topic:jit.orders:write' },
      { account: 'svc-b', entitlementRef: 'topic:jit.orders:all' },
    ]);
    expect((await connector.listActualState({ accounts: ['svc-b'] })).memberships).toEqual([{ account: 'svc-b', entitlementRef: 'topic:jit.orders:all' }]);
    expect((await connector.listActualState({ entitlementRefs: ['topic:jit.orders:write'] })).memberships).toEqual([
      { account: 'svc-a', entitlementRef: 'topic:jit.orders:write' },
    ]);
    // and the hand-made rule can be revoked by the ref the report gave it
    await expect(connector.deprovision(op('deprovision', 'svc-b', 'topic:jit.orders:all'))).resolves.toEqual({ changed: true });
  });

  it('refuses a configuration that would reach beyond a prefix', () => {
    const build = (managedResourcePrefix: string, managedPrincipalPrefix: string): KafkaAclConnector =>
      new KafkaAclConnector({ id: 'kafka-acl', admin, managedResourcePrefix, managedPrincipalPrefix });
    expect(() => build('', 'User:svc-')).toThrow(/managedResourcePrefix/);
    expect(() => build('jit.', 'User:')).toThrow(/managedPrincipalPrefix/);
    expect(() => build('jit.', 'svc-')).toThrow(/managedPrincipalPrefix/);
  });
});
