// The ACL admin port against the real broker (SASL/SCRAM + StandardAuthorizer, ADR 0017), as the harness's admin:
// every binding of a principal of its own, on names of its own, so nothing another spec holds is touched.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { infraEndpoints } from '@grantline/testing';
import { AclAdminError } from '../acls/acl-admin.port';
import type { AclBinding } from '../acls/kafka-acl-plan';
import { KafkaAclAdmin } from './kafka-acls';
import { kafkaSaslFromEnv } from './kafka-sasl';

jest.setTimeout(60_000);

const { kafkaBrokers } = infraEndpoints();
const admin = kafkaSaslFromEnv();
const run = randomBytes(4).toString('hex');
const principal = `User:spec-acl-${run}`;
const topic = `jit.spec-${run}.orders`;

const bindings: AclBinding[] = [
  { principal, resourceType: 'topic', resourceName: topic, patternType: 'literal', operation: 'write' },
  { principal, resourceType: 'topic', resourceName: `jit.spec-${run}.`, patternType: 'prefixed', operation: 'read' },
  { principal, resourceType: 'group', resourceName: `jit.spec-${run}.consumers`, patternType: 'literal', operation: 'read' },
];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function failure(action: () => Promise<unknown>): Promise<AclAdminError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(AclAdminError);
    return error as AclAdminError;
  }
  throw new Error('expected the call to fail');
}

describe('KafkaAclAdmin as the ACL admin port, on the real broker', () => {
  const port = new KafkaAclAdmin({ clientId: `spec-acl-port-${run}`, brokers: kafkaBrokers, ...(admin ? { sasl: admin } : {}) });
  const opened: KafkaAclAdmin[] = [port];

  afterAll(async () => {
    await port.deleteAcls(bindings).catch(() => undefined);
    await Promise.all(opened.map((client) => client.disconnect()));
  });

  it('creates, describes (by principal and by resource) and deletes exactly the given bindings', async () => {
    expect(await port.describeAcls({ principal })).toEqual([]);
    await port.createAcls(bindings);
    await port.createAcls(bindings); // the broker keeps one of each
    const described = await port.describeAcls({ principal });
    expect(described.map(({ permission, host, ...binding }) => ({ ...binding, permission, host }))).toEqual(
      expect.arrayContaining(bindings.map((binding) => ({ ...binding, permission: 'allow', host: '*' }))),
    );
    expect(described).toHaveLength(bindings.length);
    expect(await port.describeAcls({ resourceType: 'topic', resourceName: topic, patternType: 'literal' })).toEqual([
      { ...bindings[0], permission: 'allow', host: '*' },
    ]);

    const deleted = await port.deleteAcls([bindings[0]!]);
    expect(deleted).toEqual([{ ...bindings[0], permission: 'allow', host: '*' }]);
    expect(await port.deleteAcls([bindings[0]!])).toEqual([]);
    expect((await port.describeAcls({ principal })).map((b) => b.resourceName).sort()).toEqual([`jit.spec-${run}.`, `jit.spec-${run}.consumers`]);
    expect(await port.deleteAcls(bindings)).toHaveLength(2);
    expect(await port.describeAcls({ principal })).toEqual([]);
  });

  it('tells which topics exist', async () => {
    const present = await port.existingTopics([topic, '__consumer_offsets']);
    expect(present).toEqual(['__consumer_offsets']);
  });

  it("surfaces the broker's refusal with Kafka's error name and code: a principal without a type is INVALID_REQUEST", async () => {
    const error = await failure(() =>
      port.createAcls([{ principal: `spec-acl-${run}`, resourceType: 'topic', resourceName: topic, patternType: 'literal', operation: 'read' }]),
    );
    expect({ name: error.kafkaErrorName, code: error.kafkaErrorCode, retriable: error.retriable }).toEqual({
      name: 'INVALID_REQUEST',
      code: 42,
      retriable: false,
    });
    expect(await port.describeAcls({ resourceName: topic })).toEqual([]);
  });

  it('surfaces a wrong login as SASL_AUTHENTICATION_FAILED and a closed port as a retriable CONNECTION_ERROR', async () => {
    const wrongLogin = new KafkaAclAdmin({
      clientId: `spec-acl-wrong-${run}`,
      brokers: kafkaBrokers,
      sasl: { username: admin?.username ?? 'nobody', password: 'not-the-password-at-all' },
      retries: 0,
    });
    opened.push(wrongLogin);
    const refused = await failure(() => wrongLogin.describeAcls({ principal }));
    expect(refused).toMatchObject({ kafkaErrorName: 'SASL_AUTHENTICATION_FAILED', retriable: false });
    expect(refused.message).not.toContain('not-the-password-at-all');

    const unreachable = new KafkaAclAdmin({
      clientId: `spec-acl-down-${run}`,
      brokers: [`127.0.0.1:${await closedPort()}`],
      retries: 0,
      connectionTimeoutMs: 1_000,
    });
    opened.push(unreachable);
    expect(await failure(() => unreachable.createAcls(bindings))).toMatchObject({ kafkaErrorName: 'CONNECTION_ERROR', retriable: true });
  });
});
