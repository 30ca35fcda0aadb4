// The broker enforces single writer (docs/adr/0017): a private broker with SASL/SCRAM and the StandardAuthorizer
// (deny by default), the users and the ACLs generated from the topic catalogue, and each principal trying what it may
// and may not do. Every refusal asserted here comes from the broker, not from a check in our code.
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS, connectorCommandsTopic } from '@grantline/contracts';
import { newKafkaPassword, startPrivateKafka, uniqueName } from '@grantline/testing';
import type { PrivateKafka } from '@grantline/testing';
import { connectorPrincipal, kafkaAclPlan } from '../acls/kafka-acl-plan';
import { silentLogger } from '../logger';
import { testRegistry } from '../testing/test-events';
import { KafkaAclAdmin } from './kafka-acls';
import { KafkaMessageBus } from './kafka-bus';
import type { KafkaSaslCredentials } from './kafka-sasl';

jest.setTimeout(240_000);

const CONNECTORS = [
  { id: 'pg-a', service: 'connector-postgres' },
  { id: 'pg-b', service: 'connector-postgres' },
];

/** The error and its causes, flattened: kafkajs wraps the broker's answer (`KafkaJSNonRetriableError` → protocol error). */
function errorChain(error: unknown): { name?: string; type?: string; message?: string }[] {
  const chain: { name?: string; type?: string; message?: string }[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    const e = current as { name?: string; type?: string; message?: string; cause?: unknown; originalError?: unknown; errors?: unknown[] };
    chain.push({ ...(e.name ? { name: e.name } : {}), ...(e.type ? { type: e.type } : {}), ...(e.message ? { message: e.message } : {}) });
    for (const inner of e.errors ?? []) chain.push(...errorChain(inner));
    current = e.cause ?? e.originalError;
  }
  return chain;
}

async function refusal(action: () => Promise<unknown>): Promise<{ name?: string; type?: string; message?: string }[]> {
  try {
    await action();
  } catch (error) {
    return errorChain(error);
  }
  throw new Error('expected the broker to refuse, but the call succeeded');
}

describe('the broker enforces single writer (SASL/SCRAM + ACLs from the catalogue)', () => {
  let kafka: PrivateKafka;
  let adminBus: KafkaMessageBus;
  const namespace = uniqueName('acl').replace(/_/g, '-').slice(0, 40);
  const passwords = new Map<string, string>();
  const buses: KafkaMessageBus[] = [];
  const login = (username: string): KafkaSaslCredentials => ({ username, password: passwords.get(username) ?? 'missing' });
  const busOf = (username: string, clientId = username, registryTopics: [string, string] = [TOPICS.approvals, TOPICS.requests]): KafkaMessageBus => {
    const bus = new KafkaMessageBus({
      clientId,
      brokers: kafka.brokers,
      registry: testRegistry(...registryTopics).registry,
      logger: silentLogger,
      namespace,
      sasl: login(username),
      connectionTimeoutMs: 5_000,
    });
    buses.push(bus);
    return bus;
  };
  const ping = testRegistry(TOPICS.approvals, TOPICS.requests).ping;

  beforeAll(async () => {
    kafka = await startPrivateKafka({ sasl: true });
    const plan = kafkaAclPlan({ namespace, connectors: CONNECTORS });
    for (const principal of plan.principals) passwords.set(principal.name, newKafkaPassword());
    await kafka.changeUsers([...passwords].map(([username, password]) => ({ action: 'upsert' as const, username, password })));
    const acls = new KafkaAclAdmin({ clientId: 'spec-acl-admin', brokers: kafka.brokers, ...(kafka.admin ? { sasl: kafka.admin } : {}) });
    try {
      expect(await acls.apply(plan.bindings)).toBe(plan.bindings.length);
      expect(await acls.apply(plan.bindings)).toBe(0);
    } finally {
      await acls.disconnect();
    }
    // the deployment's provisioning step: the bootstrap admin creates the topics
    adminBus = new KafkaMessageBus({
      clientId: 'spec-admin',
      brokers: kafka.brokers,
      registry: testRegistry(TOPICS.approvals, TOPICS.requests).registry,
      logger: silentLogger,
      namespace,
      sasl: kafka.admin ?? false,
    });
    buses.push(adminBus);
    await adminBus.ensureTopics(
      [TOPICS.requests, TOPICS.approvals, TOPICS.deadLetter, connectorCommandsTopic('pg-a'), connectorCommandsTopic('pg-b')].map((topic) => ({
        topic,
        partitions: 1,
      })),
    );
  });

  afterAll(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.disconnect().catch(() => undefined)));
    await kafka?.dispose();
  });

  it('refuses a service producing to a topic it does not own: TOPIC_AUTHORIZATION_FAILED from the broker', async () => {
    const intake = busOf('intake');
    await intake.publish(TOPICS.requests, [ping({ key: 'r-1', seq: 1 })]);
    const chain = await refusal(() => intake.publish(TOPICS.approvals, [ping({ key: 'forged', seq: 1, note: 'request-approved' })]));
    expect(chain.map((e) => e.type)).toContain('TOPIC_AUTHORIZATION_FAILED');
  });

  it('lets the owner write and a reader read, and the forged event never reached the log', async () => {
    const approval = busOf('approval');
    await approval.publish(TOPICS.approvals, [ping({ key: 'genuine', seq: 1 })]);
    const provisioning = busOf('provisioning');
    const seen: string[] = [];
    await provisioning.replay({ topics: [TOPICS.approvals], handler: async (event) => void seen.push(event.subject) });
    expect(seen).toEqual(['genuine']);
  });

  it('refuses a connector reading another connector’s command topic, and lets it read its own', async () => {
    const provisioning = busOf('provisioning', 'provisioning', [connectorCommandsTopic('pg-b'), TOPICS.requests]);
    await provisioning.publish(connectorCommandsTopic('pg-b'), [ping({ key: 'grant-b', seq: 1 })]);
    const pgA = busOf(connectorPrincipal('pg-a'), 'connector-postgres', [connectorCommandsTopic('pg-b'), TOPICS.requests]);
    const chain = await refusal(() => pgA.replay({ topics: [connectorCommandsTopic('pg-b')], handler: async () => undefined }));
    expect(chain.map((e) => e.type)).toContain('TOPIC_AUTHORIZATION_FAILED');
    const own = busOf(connectorPrincipal('pg-a'), 'connector-postgres', [connectorCommandsTopic('pg-a'), TOPICS.requests]);
    await expect(own.replay({ topics: [connectorCommandsTopic('pg-a')], handler: async () => undefined })).resolves.toBeDefined();
    const pgB = busOf(connectorPrincipal('pg-b'), 'connector-postgres', [connectorCommandsTopic('pg-b'), TOPICS.requests]);
    const commands: string[] = [];
    await pgB.replay({ topics: [connectorCommandsTopic('pg-b')], handler: async (event) => void commands.push(event.subject) });
    expect(commands).toEqual(['grant-b']);
  });

  it("refuses a service joining another service's consumer group (GROUP_AUTHORIZATION_FAILED), not its own", async () => {
    // provisioning may read the approvals topic, but not as the approval service's group. kafkajs turns the broker's
    // answer to FindCoordinator into "coordinator not found"; its debug log keeps the broker's error code.
    const joinAs = async (groupId: string): Promise<{ error: unknown; brokerErrors: string[] }> => {
      const brokerErrors: string[] = [];
      const client = new Kafka({
        clientId: 'provisioning',
        brokers: [...kafka.brokers],
        sasl: { mechanism: 'scram-sha-512', ...login('provisioning') },
        logLevel: logLevel.DEBUG,
        logCreator: () => (entry) => {
          const error = (entry.log as { error?: { type?: string } | string }).error;
          const type = typeof error === 'object' ? error.type : error;
          if (type !== undefined) brokerErrors.push(type);
        },
      });
      // retries: a fresh broker's first group meets "not the correct coordinator" while the offsets topic comes up
      const consumer = client.consumer({ groupId, retry: { retries: 8, restartOnFailure: () => Promise.resolve(false) } });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      const crashed = new Promise<unknown>((resolve) => consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error)));
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [`${namespace}.${TOPICS.approvals}`], fromBeginning: true });
        await consumer.run({ eachMessage: async () => undefined });
        return { error: await Promise.race([crashed, joined.then(() => undefined)]), brokerErrors };
      } catch (error) {
        return { error, brokerErrors };
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    };
    const foreign = await joinAs(`${namespace}.approval`);
    expect(foreign.error).toBeDefined();
    expect(foreign.brokerErrors.join(' ')).toMatch(/GROUP_AUTHORIZATION_FAILED|Not authorized to access group/);
    const own = await joinAs(`${namespace}.provisioning`);
    expect(own.error).toBeUndefined();
  });

  it('refuses a wrong password at authentication, naming neither password', async () => {
    passwords.set('intake-wrong', newKafkaPassword());
    const bus = new KafkaMessageBus({
      clientId: 'intake',
      brokers: kafka.brokers,
      registry: testRegistry(TOPICS.requests, TOPICS.approvals).registry,
      logger: silentLogger,
      namespace,
      sasl: { username: 'intake', password: passwords.get('intake-wrong') ?? '' },
    });
    buses.push(bus);
    const chain = await refusal(() => bus.connect());
    expect(chain.map((e) => e.name)).toContain('KafkaJSSASLAuthenticationError');
    const text = JSON.stringify(chain);
    expect(text).not.toContain(passwords.get('intake-wrong'));
    expect(text).not.toContain(passwords.get('intake'));
  });

  it('makes a reader that may not create a topic wait for its owner to create it', async () => {
    // intake reads the decisions topic, which policy owns; nobody created it yet
    const intake = busOf('intake');
    let ensured = false;
    const waiting = intake.ensureTopics([{ topic: TOPICS.decisions, partitions: 1 }]).then(() => (ensured = true));
    expect(await adminBus.listTopics()).not.toContain(TOPICS.decisions);
    expect(ensured).toBe(false);
    await busOf('policy').ensureTopics([{ topic: TOPICS.decisions, partitions: 1 }]);
    await waiting;
    expect(ensured).toBe(true);
    // created by its owner, with the owner's settings; the reader created nothing
    expect(await adminBus.listTopics()).toContain(TOPICS.decisions);
  });

  it('fails the start of a reader whose topic nobody creates, bounded, naming the topic and the fix', async () => {
    const intake = new KafkaMessageBus({
      clientId: 'intake',
      brokers: kafka.brokers,
      registry: testRegistry(TOPICS.approvals, TOPICS.requests).registry,
      logger: silentLogger,
      namespace,
      sasl: login('intake'),
      topicCreatedByOthersTimeoutMs: 1_500,
    });
    buses.push(intake);
    // intake reads the grants topic; its owner (provisioning) never runs here
    await expect(intake.ensureTopics([{ topic: TOPICS.grants, partitions: 1 }])).rejects.toThrow(
      new RegExp(`not authorized to create ${namespace}\\.iga\\.grants\\.v1.*within 1500 ms.*grantline kafka acls --apply`),
    );
    expect(await adminBus.listTopics()).not.toContain(TOPICS.grants);
  });
});
