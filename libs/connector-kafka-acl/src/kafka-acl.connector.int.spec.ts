// The Kafka ACL connector against the real local broker (KRaft, SASL/SCRAM, StandardAuthorizer, deny by default),
// through the harness's bootstrap admin. Each run manages its own prefix (topics in a namespace of its own) and its
// own service-account names, so the platform's ACLs and every other spec's stay out of its reach.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ConnectorRunner, InMemoryIdempotencyStore, describeConnectorConformance, idempotencyKeyOf } from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import { registry } from '@grantline/contracts';
import { KafkaAclAdmin, KafkaMessageBus, kafkaSaslFromEnv, silentLogger } from '@grantline/messaging';
import type { AclBinding } from '@grantline/messaging';
import { infraEndpoints } from '@grantline/testing';
import { KafkaAclConnector } from './kafka-acl.connector';

jest.setTimeout(90_000);

const { kafkaBrokers } = infraEndpoints();
const admin = kafkaSaslFromEnv();
const RUN = randomBytes(3).toString('hex');
/** The managed prefix of this run: a topic namespace of its own (removed with its topics at the end). */
const NAMESPACE = `jitconf-${RUN}`;
const MANAGED = `${NAMESPACE}.`;
const PRINCIPALS = 'User:svc-';
let fixtureSeq = 0;

const topicsBus = new KafkaMessageBus({ clientId: `spec-kafka-acl-${RUN}`, brokers: kafkaBrokers, registry, logger: silentLogger, namespace: NAMESPACE });
/** The spec's own view of the broker's ACLs: the port, not the connector under test. */
const inspector = new KafkaAclAdmin({ clientId: `spec-kafka-acl-inspector-${RUN}`, brokers: kafkaBrokers, ...(admin ? { sasl: admin } : {}) });
const opened: KafkaAclConnector[] = [];

function connectorFor(brokers: readonly string[], options: { id?: string; retries?: number } = {}): KafkaAclConnector {
  const connector = new KafkaAclConnector({
    id: options.id ?? 'kafka-acl',
    admin: new KafkaAclAdmin({
      clientId: `spec-kafka-acl-connector-${RUN}`,
      brokers,
      ...(admin ? { sasl: admin } : {}),
      connectionTimeoutMs: 1_000,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
    }),
    managedResourcePrefix: MANAGED,
    managedPrincipalPrefix: PRINCIPALS,
  });
  opened.push(connector);
  return connector;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Every ACL of this run's accounts, removed behind the connector's back. */
async function removeAclsOf(accounts: readonly string[]): Promise<void> {
  for (const account of accounts) {
    const held = await inspector.describeAcls({ principal: `User:${account}` });
    if (held.length > 0) await inspector.deleteAcls(held);
  }
}

function op(operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation {
  const grantId = `g-${randomBytes(4).toString('hex')}`;
  return { grantId, operation, idempotencyKey: idempotencyKeyOf(grantId, operation), account, entitlementRef };
}

afterAll(async () => {
  await Promise.all(opened.map((connector) => connector.close()));
  await removeAclsOf(Array.from({ length: fixtureSeq }, (_, i) => [`svc-${RUN}-${i + 1}-a`, `svc-${RUN}-${i + 1}-b`]).flat());
  await inspector.disconnect();
  await topicsBus.deleteNamespace().catch(() => undefined);
  await topicsBus.disconnect();
});

describeConnectorConformance('kafka acls', async () => {
  const n = (fixtureSeq += 1);
  const accounts = [`svc-${RUN}-${n}-a`, `svc-${RUN}-${n}-b`] as const;
  await topicsBus.ensureTopics([{ topic: `t${n}-orders`, partitions: 1 }]);
  return {
    connector: connectorFor(kafkaBrokers),
    accounts,
    // a topic and a consumer group: both resource kinds of the grammar
    entitlements: [`topic:${MANAGED}t${n}-orders:write`, `group:${MANAGED}t${n}-consumers:read`] as const,
    missingEntitlement: `topic:${MANAGED}t${n}-missing:read`,
    // a topic of the platform itself: refused before the broker is asked
    unmanagedEntitlement: 'topic:iga.requests.v1:read',
    unreachableConnector: async () => connectorFor([`127.0.0.1:${await closedPort()}`], { id: 'kafka-acl-down', retries: 0 }),
    dispose: () => removeAclsOf(accounts),
  };
});

describe('KafkaAclConnector against the real broker', () => {
  let connector: KafkaAclConnector;
  let account: string;
  let topic: string;

  beforeEach(async () => {
    const n = (fixtureSeq += 1);
    account = `svc-${RUN}-${n}-a`;
    topic = `${MANAGED}t${n}-events`;
    await topicsBus.ensureTopics([{ topic: `t${n}-events`, partitions: 1 }]);
    connector = connectorFor(kafkaBrokers);
  });

  it('creates exactly the bindings of the ref on the broker, and deletes exactly those', async () => {
    const principal = `User:${account}`;
    await connector.provision(op('provision', account, `topic:${topic}:write`));
    await connector.provision(op('provision', account, `topic:${MANAGED}t-prefix.*:read`));
    expect((await inspector.describeAcls({ principal })).map(({ permission, host, ...binding }) => ({ ...binding, permission, host }))).toEqual(
      expect.arrayContaining<AclBinding & { permission: string; host: string }>([
        { principal, resourceType: 'topic', resourceName: topic, patternType: 'literal', operation: 'write', permission: 'allow', host: '*' },
        { principal, resourceType: 'topic', resourceName: `${MANAGED}t-prefix.`, patternType: 'prefixed', operation: 'read', permission: 'allow', host: '*' },
      ]),
    );
    expect(await inspector.describeAcls({ principal })).toHaveLength(2);
    await connector.deprovision(op('deprovision', account, `topic:${topic}:write`));
    expect(await inspector.describeAcls({ principal })).toEqual([
      { principal, resourceType: 'topic', resourceName: `${MANAGED}t-prefix.`, patternType: 'prefixed', operation: 'read', permission: 'allow', host: '*' },
    ]);
  });

  it('reports an ACL added by hand (drift), by its operation, and never the platform’s own ACLs', async () => {
    await connector.provision(op('provision', account, `topic:${topic}:write`));
    // an operator grants ALL on the topic by hand, outside Grantline
    await inspector.createAcls([{ principal: `User:${account}`, resourceType: 'topic', resourceName: topic, patternType: 'literal', operation: 'all' }]);
    expect((await connector.listActualState({ accounts: [account] })).memberships).toEqual([
      { account, entitlementRef: `topic:${topic}:all` },
      { account, entitlementRef: `topic:${topic}:write` },
    ]);
    // rules outside the managed area: a managed account on a platform-like topic, a platform-like principal on a managed topic
    const outside: AclBinding[] = [
      { principal: `User:${account}`, resourceType: 'topic', resourceName: `${NAMESPACE}-platform.iga.requests.v1`, patternType: 'literal', operation: 'read' },
      { principal: `User:intake-${RUN}`, resourceType: 'topic', resourceName: topic, patternType: 'literal', operation: 'write' },
    ];
    await inspector.createAcls(outside);
    try {
      const everything = await connector.listActualState();
      expect(everything.memberships).toEqual(expect.arrayContaining([{ account, entitlementRef: `topic:${topic}:all` }]));
      expect(everything.memberships.filter((m) => !m.entitlementRef.split(':')[1]!.startsWith(MANAGED) || !m.account.startsWith('svc-'))).toEqual([]);
      // and the connector refuses to touch them
      await expect(connector.deprovision(op('deprovision', `intake-${RUN}`, `topic:${topic}:write`))).rejects.toMatchObject({ code: 'invalid_request' });
      expect(await inspector.describeAcls({ principal: `User:intake-${RUN}` })).toHaveLength(1);
    } finally {
      await inspector.deleteAcls(outside);
    }
    // reconciliation can remove the hand-made rule by the ref the report gave it
    await expect(connector.deprovision(op('deprovision', account, `topic:${topic}:all`))).resolves.toEqual({ changed: true });
    expect((await connector.listActualState({ accounts: [account] })).memberships).toEqual([{ account, entitlementRef: `topic:${topic}:write` }]);
  });

  it('runs provision → replay → deprovision through the ConnectorRunner', async () => {
    const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore() });
    const grant = op('provision', account, `topic:${topic}:read`);
    await expect(runner.handle(grant)).resolves.toMatchObject({ status: 'provisioned', changed: true });
    await expect(runner.handle(grant)).resolves.toMatchObject({ status: 'provisioned', replayed: true });
    const revoke = { ...grant, operation: 'deprovision' as const, idempotencyKey: idempotencyKeyOf(grant.grantId, 'deprovision') };
    await expect(runner.handle(revoke)).resolves.toMatchObject({ status: 'deprovisioned', changed: true });
    expect(await inspector.describeAcls({ principal: `User:${account}` })).toEqual([]);
  });
});
