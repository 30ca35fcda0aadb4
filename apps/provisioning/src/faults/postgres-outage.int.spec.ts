// Fault injection, fail closed: PostgreSQL is down when a revocation falls due. Provisioning runs in-process on the
// service kit, the PostgreSQL connector as its own process (started as `npm start` starts it; apps cannot import
// each other), both in a Kafka namespace of this spec's own, against a PostgreSQL cluster of this spec's own that is
// stopped and started again on the same port with the same data; the shared servers of jest's global setup are never
// touched. A revocation must never be dropped silently: either it is retried into the recovered target (the
// membership goes, the grant ends revoked), or, once the bounded retries are spent, the grant ends `irrevocable` with
// a terminal failure on the grants topic (what the notifier alerts on) — and this spec shows which one happens when.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Module } from '@nestjs/common';
import { Client } from 'pg';
import {
  ConnectorOperationFailed,
  GrantDeprovisioningRequested,
  GrantProvisioningFailed,
  GrantRevoked,
  TOPICS,
  connectorResultsTopic,
  isEvent,
  registry,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { ServiceKitModule, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, startPrivatePostgres, uniqueName } from '@grantline/testing';
import type { PrivateServer } from '@grantline/testing';
import { provisioningTopics } from '../app.module';
import { GrantsModule, ProvisioningStateService, ReconciliationTrigger } from '../grants';
import { ProvisioningScenario } from '../testing/provisioning-scenario';

const ROOT = resolve(__dirname, '../../../..');
const { kafkaBrokers } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const namespace = uniqueName('prov-pg-down').replace(/_/g, '-');
const connectorId = `pg-down-${hex}`;
const rolePrefix = `gl${hex}_`;
const groupRole = `${rolePrefix}orders_read`;
/** Commands per operation before provisioning gives up (the production default). */
const MAX_ATTEMPTS = 3;
/**
 * The connector's own retries per command: 10 attempts, backoff from 100 ms capped at 2 s, so one command keeps
 * trying for ~5 s (at most ~11 s) — long enough that a target restarted right after a failed command is back
 * before provisioning's next command has spent its retries.
 */
const CONNECTOR_RETRY = { CONNECTOR_MAX_ATTEMPTS: '10', CONNECTOR_RETRY_BASE_MS: '100', CONNECTOR_RETRY_MAX_MS: '2000' };
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };
const OUTAGE_WAIT = { timeoutMs: 150_000, intervalMs: 500 };

function beneficiary(name: string): ProvisioningScenario {
  return new ProvisioningScenario({
    connectorId,
    entitlementId: `ent-${hex}`,
    groupRole,
    beneficiaryId: `dev-${name}-${hex}`,
    account: `${rolePrefix}${name}`,
    catalogVersion: 1,
    time: new Date().toISOString(),
  });
}

interface ConnectorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly ready: Promise<void>;
}

/** The connector service as its own process; `ready` resolves once it logged so. */
function startConnector(pgUrl: string): ConnectorProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/connector-postgres/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_DB: uniqueName('connector_pg_down'),
      CONNECTOR_ID: connectorId,
      PG_URL: pgUrl,
      PG_MANAGED_ROLE_PREFIX: rolePrefix,
      ...CONNECTOR_RETRY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const output: string[] = [];
  const ready = new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`connector service not ready within 90 s:\n${output.join('\n')}`)), 90_000);
    const onLine = (line: string): void => {
      if (output.length < 200) output.push(line);
      if (line.includes('"msg":"ready"')) {
        clearTimeout(timer);
        done();
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`connector service exited (${String(code)}) before it was ready:\n${output.join('\n')}`));
    });
  });
  return { child, exited, ready };
}

describe('a revocation due while PostgreSQL is down (fail closed)', () => {
  let target: PrivateServer;
  let bus: KafkaMessageBus;
  let connector: ConnectorProcess | undefined;
  let provisioning: RunningService | undefined;
  let state: ProvisioningStateService;

  /** One short-lived connection per query: the server under test goes away and comes back. */
  const query = async <Row extends Record<string, unknown>>(sql: string): Promise<Row[]> => {
    const client = new Client({ connectionString: target.url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<Row>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const isMember = async (login: string): Promise<boolean> =>
    (
      await query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
          WHERE g.rolname = '${groupRole}' AND m.rolname = '${login}'`,
      )
    )[0]?.n === '1';
  const eventsOf = async (topic: string, grantId: string): Promise<Envelope[]> => {
    const events: Envelope[] = [];
    await bus.replay({ topics: [topic], handler: async (event) => void ((event.data as { grantId?: string }).grantId === grantId && events.push(event)) });
    // A command redelivered after an aborted transaction is answered under the same id: count each event once.
    return [...new Map(events.map((event) => [event.id, event])).values()];
  };
  /** A grant provisioned for real: active in provisioning's state, a membership in PostgreSQL. */
  const provisioned = async (who: ProvisioningScenario, requestId: string): Promise<string> => {
    await query(`CREATE ROLE ${who.account} LOGIN`);
    await bus.publisher.publish(TOPICS.identities, [who.identity(`identity-${requestId}`)]);
    await eventually(() => expect(state.state.identity(who.beneficiaryId)).toBeDefined(), WAIT);
    const grantId = who.grantIdOf(requestId);
    await bus.publisher.publish(TOPICS.approvals, [who.approved(requestId, `approved-${requestId}`, new Date(Date.now() + 3_600_000).toISOString())]);
    await eventually(async () => {
      expect(state.state.grant(grantId)?.status).toBe('active');
      expect(await isMember(who.account)).toBe(true);
    }, WAIT);
    return grantId;
  };

  beforeAll(async () => {
    target = await startPrivatePostgres();
    await query(`CREATE ROLE ${groupRole} NOLOGIN`);
    bus = new KafkaMessageBus({ clientId: uniqueName('prov-pg-down-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();

    connector = startConnector(target.url);
    await connector.ready;

    @Module({
      imports: [
        ServiceKitModule.forRoot({
          serviceName: 'provisioning',
          env: { ...process.env, KAFKA_TOPIC_NAMESPACE: namespace, PORT: '0', LOG_LEVEL: 'fatal', MONGO_DB: uniqueName('provisioning_pg_down') },
          topics: provisioningTopics([connectorId]),
        }),
        GrantsModule.forRoot({ connectorIds: [connectorId], maxAttempts: MAX_ATTEMPTS }),
      ],
    })
    class SpecProvisioningModule {}
    provisioning = await startService(SpecProvisioningModule, {
      serviceName: 'provisioning',
      groupId: uniqueName('provisioning-pg-down'),
      transactional: true,
      fromBeginning: true,
      connectorIds: [connectorId],
    });
    state = provisioning.app.get(ProvisioningStateService);

    const catalogue = beneficiary('catalogue');
    await bus.publisher.publish(TOPICS.catalog, [catalogue.catalog(`catalog-${hex}`)]);
    await eventually(() => expect(state.state.entitlement(catalogue.entitlementId)?.externalRef).toBe(groupRole), WAIT);
  }, 180_000);

  afterAll(async () => {
    await provisioning?.stop();
    if (connector && connector.child.exitCode === null) {
      connector.child.kill('SIGTERM');
      await connector.exited;
    }
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
    await target?.dispose();
  }, 60_000);

  it('given PostgreSQL back before the retries are spent, then the membership is removed after recovery and the grant ends revoked', async () => {
    const ada = beneficiary('ada');
    const requestId = `req-${hex}-brief`;
    const grantId = await provisioned(ada, requestId);

    // When PostgreSQL goes down and the grant's expiry fires
    await target.stop();
    await bus.publisher.publish(TOPICS.schedule, [ada.expired(grantId, `timer-${requestId}`)]);

    // Then the connector's retries of the first command fail, and the failure is on the log, not swallowed
    await eventually(async () => {
      const failed = (await eventsOf(connectorResultsTopic(connectorId), grantId)).filter((event) => isEvent(event, ConnectorOperationFailed));
      expect(failed.map((event) => event.data)).toContainEqual(
        expect.objectContaining({ operation: 'deprovision', errorClass: 'retriable', code: 'unavailable' }),
      );
    }, OUTAGE_WAIT);
    expect(state.state.grant(grantId)?.status).toBe('deprovisioning');

    // When PostgreSQL comes back
    await target.start();

    // Then a later command removes the membership and the grant ends revoked, for its expiry
    await eventually(async () => {
      expect(await isMember(ada.account)).toBe(false);
      expect(state.state.grant(grantId)?.status).toBe('revoked');
      const grants = await eventsOf(TOPICS.grants, grantId);
      expect(grants.filter((event) => isEvent(event, GrantRevoked)).map((event) => event.data)).toEqual([
        expect.objectContaining({ grantId, reason: 'expiry' }),
      ]);
      expect(grants.filter((event) => isEvent(event, GrantProvisioningFailed)).map((event) => event.data)).toContainEqual(
        expect.objectContaining({ operation: 'deprovision', terminal: false, retriable: true, code: 'unavailable' }),
      );
    }, OUTAGE_WAIT);
  }, 300_000);

  it('given PostgreSQL down until every retry is spent, then the grant ends irrevocable with a terminal failure (the alert), and the next reconciliation after recovery removes it', async () => {
    const bea = beneficiary('bea');
    const requestId = `req-${hex}-long`;
    const grantId = await provisioned(bea, requestId);

    // When PostgreSQL goes down and a revocation of the grant is requested
    await target.stop();
    const revocation = bea.revocation({ grantId }, `revocation-${requestId}`);
    await bus.publisher.publish(registry.definitionOf(revocation.type).topic, [revocation]);

    // Then, PostgreSQL staying down, every command is tried and fails, and provisioning gives up loudly: a terminal
    // failure on the grants topic (the notifier's `provisioning_failed` alert, state `irrevocable`)
    await eventually(async () => {
      const grants = await eventsOf(TOPICS.grants, grantId);
      const failures = grants.filter((event) => isEvent(event, GrantProvisioningFailed)).map((event) => event.data);
      expect(failures).toContainEqual(
        expect.objectContaining({ operation: 'deprovision', terminal: true, retriable: true, code: 'unavailable', attempts: MAX_ATTEMPTS }),
      );
      expect(grants.filter((event) => isEvent(event, GrantDeprovisioningRequested)).map((event) => (event.data as { attempt: number }).attempt)).toEqual(
        Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1),
      );
    }, OUTAGE_WAIT);
    expect(state.state.grant(grantId)?.status).toBe('irrevocable');
    const results = (await eventsOf(connectorResultsTopic(connectorId), grantId)).filter((event) => isEvent(event, ConnectorOperationFailed));
    expect(results.filter((event) => (event.data as { operation: string }).operation === 'deprovision')).toHaveLength(MAX_ATTEMPTS);

    // When PostgreSQL comes back
    await target.start();

    // Then the access is still there, and nothing claims it was revoked
    expect(await isMember(bea.account)).toBe(true);
    expect((await eventsOf(TOPICS.grants, grantId)).filter((event) => isEvent(event, GrantRevoked))).toEqual([]);
    expect(state.state.grant(grantId)?.status).toBe('irrevocable');

    // When the periodic reconciliation next asks the connector for its target's state
    await provisioning!.app.get(ReconciliationTrigger).requestAll();

    // Then the report shows the connector reachable, the removal that gave up is tried again, and it succeeds: the
    // membership is gone and the grant ends revoked, for the revocation that was asked for
    await eventually(async () => {
      expect(await isMember(bea.account)).toBe(false);
      expect(state.state.grant(grantId)?.status).toBe('revoked');
      const grants = await eventsOf(TOPICS.grants, grantId);
      expect(grants.filter((event) => isEvent(event, GrantRevoked)).map((event) => event.data)).toEqual([
        expect.objectContaining({ grantId, reason: 'revocation' }),
      ]);
      expect(grants.filter((event) => isEvent(event, GrantDeprovisioningRequested)).map((event) => (event.data as { attempt: number }).attempt)).toContain(
        MAX_ATTEMPTS + 1,
      );
    }, OUTAGE_WAIT);
  }, 300_000);
});
