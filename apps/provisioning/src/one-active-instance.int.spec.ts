// Two real provisioning processes, started exactly as `npm start` starts one (node -r @swc-node/register
// apps/provisioning/src/main.ts), in a Kafka namespace of this spec's own: exactly one is active, every grant is
// provisioned once, and when the active one is killed with SIGKILL the standby takes over within a bounded time and
// revokes a grant whose expiry fired meanwhile. The connector is played by the spec (it answers the commands).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  GrantActivated,
  GrantCreated,
  TOPICS,
  connectorCommandsTopic,
  connectorResultsTopic,
  isEvent,
  registry,
} from '@grantline/contracts';
import type { Envelope, ProvisionRequestedData } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { ProvisioningScenario } from './testing/provisioning-scenario';

const ROOT = resolve(__dirname, '../../..');
const { kafkaBrokers } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const namespace = `lease-${hex}`;
const connectorId = `pg-lease-${hex}`;
/** The broker's smallest session timeout: the quickest takeover it allows. */
const LEASE_SESSION_TIMEOUT_MS = 6_000;
/**
 * The takeover bound: the lease group drops the dead holder after its session timeout; the service's own consumer
 * group (10 s session) must drop it too before the new holder gets its partitions; then start-up (replay) on a
 * shared two-core machine.
 */
const TAKEOVER_BOUND_MS = 45_000;
const STANDBY = 'standby: another instance holds the lease';
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };
const scenario = new ProvisioningScenario({
  connectorId,
  entitlementId: `ent-${hex}`,
  groupRole: `gl${hex}_orders_read`,
  beneficiaryId: `dev-${hex}`,
  account: `gl${hex}_ada`,
  time: new Date().toISOString(),
});
const requestOf = (name: string): string => `req-${hex}-${name}`;

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  url?: string;
}

function startInstance(name: string, database: string): Instance {
  const child = spawn(process.execPath, ['--no-warnings', '-r', '@swc-node/register', 'apps/provisioning/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_DB: database,
      PROVISIONING_CONNECTOR_IDS: connectorId,
      PROVISIONING_RECONCILE_EVERY: 'off',
      SERVICE_LEASE_SESSION_TIMEOUT_MS: String(LEASE_SESSION_TIMEOUT_MS),
      SERVICE_INSTANCE_ID: name,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const instance: Instance = { name, child, lines: [], exited: new Promise((done) => child.once('exit', (code) => done(code))) };
  const onLine = (line: string): void => {
    instance.lines.push(line);
    if (instance.url !== undefined) return;
    try {
      // A leased instance logs its url as soon as it listens, standby or not.
      const record = JSON.parse(line) as { url?: unknown };
      if (typeof record.url === 'string') instance.url = record.url;
    } catch {
      // not a log record
    }
  };
  if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
  if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
  return instance;
}

const isRunning = (instance: Instance): boolean => instance.child.exitCode === null && instance.child.signalCode === null;

async function probe(instance: Instance, path: string): Promise<{ status: number; body: { error?: { lease?: { detail?: string; state?: string } } } }> {
  if (instance.url === undefined) throw new Error(`${instance.name} has not logged its url yet`);
  const response = await fetch(`${instance.url}${path}`, { signal: AbortSignal.timeout(3_000) });
  return { status: response.status, body: (await response.json()) as { error?: { lease?: { detail?: string; state?: string } } } };
}

/** The time of the first log record of `instance` whose message starts with `prefix`. */
function loggedAt(instance: Instance, prefix: string): number | undefined {
  for (const line of instance.lines) {
    try {
      const record = JSON.parse(line) as { msg?: unknown; time?: unknown };
      if (typeof record.msg === 'string' && record.msg.startsWith(prefix) && typeof record.time === 'string') return Date.parse(record.time);
    } catch {
      // not a log record
    }
  }
  return undefined;
}

const tail = (instance: Instance): string => `\n----- ${instance.name} -----\n${instance.lines.slice(-30).join('\n')}`;

describe('provisioning: one active instance, a standby that takes over', () => {
  let bus: KafkaMessageBus;
  let instances: Instance[] = [];
  let active: Instance;
  let standby: Instance;

  async function eventsOn(topic: string, grantId: string): Promise<Envelope[]> {
    const events: Envelope[] = [];
    await bus.replay({
      topics: [topic],
      handler: async (event) => {
        const data = event.data as { grantId?: string };
        if (data.grantId === grantId) events.push(event);
      },
    });
    return events;
  }

  const commandsOf = async (grantId: string): Promise<Envelope[]> => eventsOn(connectorCommandsTopic(connectorId), grantId);

  /** Approves a request and plays the connector: waits for the single provision command, answers it, waits for the activation. */
  async function provisionGrant(name: string, expiresAt: string): Promise<string> {
    const requestId = requestOf(name);
    const grantId = scenario.grantIdOf(requestId);
    await bus.publisher.publish(TOPICS.approvals, [scenario.approved(requestId, `approved-${requestId}`, expiresAt)]);
    const command = await eventually(async () => {
      const provisions = (await commandsOf(grantId)).filter((event) => isEvent(event, ConnectorProvisionRequested));
      expect(provisions).toHaveLength(1);
      return provisions[0] as Envelope<ProvisionRequestedData>;
    }, WAIT);
    await bus.publisher.publish(connectorResultsTopic(connectorId), [scenario.provisioned(command.data)]);
    await eventually(async () => expect((await eventsOn(TOPICS.grants, grantId)).some((event) => isEvent(event, GrantActivated))).toBe(true), WAIT);
    return grantId;
  }

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('lease-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([TOPICS.catalog, TOPICS.identities, TOPICS.approvals, TOPICS.schedule].map((topic) => ({ topic })));
    await bus.publisher.publish(TOPICS.catalog, [scenario.catalog(`catalog-${hex}`)]);
    await bus.publisher.publish(TOPICS.identities, [scenario.identity(`identity-${hex}`)]);
    // Both at once, sharing everything a second replica would share (namespace, database, consumer group).
    const database = uniqueName('provisioning_lease');
    instances = [startInstance('instance-a', database), startInstance('instance-b', database)];
  }, 60_000);

  afterAll(async () => {
    for (const instance of instances.filter(isRunning)) instance.child.kill('SIGTERM');
    await Promise.race([Promise.all(instances.map((instance) => instance.exited)), new Promise((done) => setTimeout(done, 15_000).unref())]);
    for (const instance of instances.filter(isRunning)) instance.child.kill('SIGKILL');
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
  }, 60_000);

  it('exactly one instance is active (ready); the other is a standby: live, not ready, saying why', async () => {
    try {
      await eventually(
        async () => {
          for (const instance of instances) expect(isRunning(instance)).toBe(true);
          const ready = await Promise.all(instances.map((instance) => probe(instance, '/health/ready')));
          expect(ready.map((answer) => answer.status).sort()).toEqual([200, 503]);
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    } catch (error) {
      throw new Error(`${String(error)}${instances.map(tail).join('')}`);
    }
    const answers = await Promise.all(instances.map((instance) => probe(instance, '/health/ready')));
    active = instances[answers.findIndex((answer) => answer.status === 200)] as Instance;
    standby = instances[answers.findIndex((answer) => answer.status === 503)] as Instance;
    const standbyReady = await probe(standby, '/health/ready');
    expect(standbyReady.body.error?.lease).toMatchObject({ detail: STANDBY, state: 'standby' });
    expect((await probe(standby, '/health/live')).status).toBe(200);
    // The standby never started its state or its consumers; the active one did.
    expect(loggedAt(standby, 'lease acquired')).toBeUndefined();
    expect(loggedAt(active, 'lease acquired')).toBeDefined();
  }, 150_000);

  it('approved requests are provisioned exactly once: one grant and one connector command per grant', async () => {
    const grants: string[] = [];
    for (const name of ['one', 'two', 'three']) grants.push(await provisionGrant(name, new Date(Date.now() + 3_600_000).toISOString()));
    for (const grantId of grants) {
      expect((await commandsOf(grantId)).map((event) => event.type)).toEqual([ConnectorProvisionRequested.type]);
      expect((await eventsOn(TOPICS.grants, grantId)).filter((event) => isEvent(event, GrantCreated))).toHaveLength(1);
    }
    expect((await probe(standby, '/health/ready')).status).toBe(503);
  }, 180_000);

  it('kill -9 of the active instance: the standby takes over within the bound, and an expiry that fires during the takeover is still revoked', async () => {
    const expiring = await provisionGrant('expiring', new Date(Date.now() + 60_000).toISOString());
    const earlier = scenario.grantIdOf(requestOf('one'));

    const killedAt = Date.now();
    active.child.kill('SIGKILL');
    await active.exited;
    // The grant's expiry fires while nobody is active.
    await bus.publisher.publish(TOPICS.schedule, [scenario.expired(expiring, `timer-${expiring}`)]);
    expect((await probe(standby, '/health/ready')).status).toBe(503);

    try {
      await eventually(async () => expect((await probe(standby, '/health/ready')).status).toBe(200), { timeoutMs: TAKEOVER_BOUND_MS, intervalMs: 100 });
    } catch (error) {
      throw new Error(`${String(error)}${tail(standby)}`);
    }
    const readyMs = Date.now() - killedAt;
    const leaseMs = (loggedAt(standby, 'lease acquired') ?? Number.NaN) - killedAt;
    process.stdout.write(
      `takeover after SIGKILL: lease acquired after ${leaseMs} ms, ready after ${readyMs} ms (lease session ${LEASE_SESSION_TIMEOUT_MS} ms)\n`,
    );
    expect(leaseMs).toBeGreaterThan(0);
    expect(leaseMs).toBeLessThan(LEASE_SESSION_TIMEOUT_MS + 5_000);

    // The expiry is not missed: the new active instance asks the connector to remove the access, once.
    await eventually(async () => {
      const deprovisions = (await commandsOf(expiring)).filter((event) => isEvent(event, ConnectorDeprovisionRequested));
      expect(deprovisions).toHaveLength(1);
    }, WAIT);
    // Nothing the first instance did is done again.
    expect((await commandsOf(expiring)).filter((event) => isEvent(event, ConnectorProvisionRequested))).toHaveLength(1);
    expect((await commandsOf(earlier)).map((event) => event.type)).toEqual([ConnectorProvisionRequested.type]);

    // And the new active instance provisions what comes next, once.
    const after = await provisionGrant('after', new Date(Date.now() + 3_600_000).toISOString());
    expect((await commandsOf(after)).map((event) => event.type)).toEqual([ConnectorProvisionRequested.type]);
  }, 240_000);
});
