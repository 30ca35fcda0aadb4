// Provisioning and the PostgreSQL connector against the real infrastructure: real Kafka (the catalogue's
// topics, a connector id of this spec's own), a real PostgreSQL (roles named with this spec's own prefix).
// The provisioning service runs in-process on the service kit; the connector service runs as its own process,
// started exactly as `npm start` starts it (apps cannot import each other).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Module } from '@nestjs/common';
import { Client } from 'pg';
import {
  ConnectorProvisionRequested,
  GrantActivated,
  GrantCreated,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantReconciliationCompleted,
  GrantRevoked,
  TOPICS,
  connectorCommandsTopic,
  connectorResultsTopic,
  isEvent,
  registry,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { ServiceKitModule, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { provisioningTopics } from './app.module';
import { GrantsModule, ProvisioningStateService, ReconciliationTrigger } from './grants';
import { ProvisioningScenario } from './testing/provisioning-scenario';

const ROOT = resolve(__dirname, '../../..');
const { kafkaBrokers, pgUrl } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const connectorId = `pg-spec-${hex}`;
const rolePrefix = `gl${hex}_`;
const groupRole = `${rolePrefix}orders_read`;
const loginRole = `${rolePrefix}ada`;
/** A second beneficiary, named so its account is derived from its id (no identity record needed). */
const otherRole = `${rolePrefix}bob`;
/** A login that gets the group role outside Grantline (reconciliation must notice). */
const outsiderRole = `${rolePrefix}eve`;
const scenario = new ProvisioningScenario({
  connectorId,
  entitlementId: `ent-${hex}`,
  groupRole,
  beneficiaryId: `dev-${hex}`,
  account: loginRole,
  // Low on purpose: services that keep only the newest catalogue are not switched to this spec's one.
  catalogVersion: 1,
  time: new Date().toISOString(),
});
const other = new ProvisioningScenario({
  connectorId,
  entitlementId: scenario.entitlementId,
  groupRole,
  beneficiaryId: otherRole,
  time: new Date().toISOString(),
});
const requestOf = (name: string): string => `req-${hex}-${name}`;
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };

async function readTopic(bus: KafkaMessageBus, topic: string, grantId: string): Promise<Envelope[]> {
  const events: Envelope[] = [];
  await bus.replay({
    topics: [topic],
    handler: async (event) => {
      const data = event.data as { grantId?: string; refs?: { grantId?: string } };
      if (data.grantId === grantId || data.refs?.grantId === grantId) events.push(event);
    },
  });
  return events;
}

async function memberships(pg: Client, login = loginRole): Promise<number> {
  const result = await pg.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_auth_members am
       JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
      WHERE g.rolname = $1 AND m.rolname = $2`,
    [groupRole, login],
  );
  return Number(result.rows[0]?.n ?? 0);
}

interface ConnectorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** The connector service as its own process; `ready` resolves once it logged so (its ready line is at info). */
function startConnector(): ConnectorProcess & { ready: Promise<void> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/connector-postgres/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      MONGO_DB: uniqueName('connector_spec'),
      CONNECTOR_ID: connectorId,
      PG_URL: pgUrl,
      PG_MANAGED_ROLE_PREFIX: rolePrefix,
      CONNECTOR_RETRY_BASE_MS: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const output: string[] = [];
  const ready = new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`connector service not ready within 60 s:\n${output.join('\n')}`)), 60_000);
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

describe('provisioning + PostgreSQL connector on real Kafka and PostgreSQL', () => {
  let pg: Client;
  let bus: KafkaMessageBus;
  let connector: ConnectorProcess | undefined;
  let provisioning: RunningService | undefined;
  let stateService: ProvisioningStateService;

  beforeAll(async () => {
    pg = new Client({ connectionString: pgUrl });
    await pg.connect();
    await pg.query(`CREATE ROLE ${groupRole} NOLOGIN`);
    await pg.query(`CREATE ROLE ${loginRole} LOGIN`);
    await pg.query(`CREATE ROLE ${otherRole} LOGIN`);
    bus = new KafkaMessageBus({ clientId: uniqueName('provisioning-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();

    const started = startConnector();
    connector = started;
    await started.ready;

    @Module({
      imports: [
        ServiceKitModule.forRoot({
          serviceName: 'provisioning',
          env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', MONGO_DB: uniqueName('provisioning_spec') },
          topics: provisioningTopics([connectorId]),
        }),
        GrantsModule.forRoot({ connectorIds: [connectorId], maxAttempts: 3, revocationOverdueAfterMs: 1_000 }),
      ],
    })
    class SpecProvisioningModule {}

    provisioning = await startService(SpecProvisioningModule, {
      serviceName: 'provisioning',
      groupId: uniqueName('provisioning-spec'),
      transactional: true,
      fromBeginning: true,
      connectorIds: [connectorId],
    });
    stateService = provisioning.app.get(ProvisioningStateService);

    // Given the catalogue and the beneficiary, applied before any approval arrives (different topics have no
    // order between them; in the platform the catalogue is published long before anything is approved).
    await bus.publisher.publish(TOPICS.catalog, [scenario.catalog(`catalog-${hex}`)]);
    await bus.publisher.publish(TOPICS.identities, [scenario.identity(`identity-${hex}`)]);
    await eventually(() => {
      expect(stateService.state.entitlement(scenario.entitlementId)?.externalRef).toBe(groupRole);
      expect(stateService.state.identity(scenario.beneficiaryId)).toBeDefined();
    }, WAIT);
  }, 120_000);

  afterAll(async () => {
    await provisioning?.stop();
    if (connector && connector.child.exitCode === null) {
      connector.child.kill('SIGTERM');
      await connector.exited;
    }
    await bus?.disconnect();
    if (pg) {
      for (const role of [loginRole, otherRole, outsiderRole]) await pg.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await pg.query(`DROP ROLE IF EXISTS ${groupRole}`).catch(() => undefined);
      await pg.end();
    }
  });

  it('an approved request becomes an active grant and a real membership; its expiry revokes both', async () => {
    const requestId = requestOf('expiry');
    const grantId = scenario.grantIdOf(requestId);
    await bus.publisher.publish(TOPICS.approvals, [scenario.approved(requestId, `approved-${requestId}`, new Date(Date.now() + 3_600_000).toISOString())]);

    await eventually(async () => {
      expect(stateService.state.grant(grantId)?.status).toBe('active');
      expect(await memberships(pg)).toBe(1);
    }, WAIT);
    // Transaction markers reach the grants topic a moment after the commit: wait for the events.
    await eventually(async () => {
      const activated = await readTopic(bus, TOPICS.grants, grantId);
      expect(activated.map((event) => event.type)).toEqual(expect.arrayContaining([GrantCreated.type, GrantActivated.type]));
    }, WAIT);

    // When the expiry timer fires
    await bus.publisher.publish(TOPICS.schedule, [scenario.expired(grantId, `timer-${requestId}`)]);

    await eventually(async () => {
      expect(await memberships(pg)).toBe(0);
      const revoked = (await readTopic(bus, TOPICS.grants, grantId)).filter((event) => isEvent(event, GrantRevoked));
      expect(revoked).toHaveLength(1);
      expect(revoked[0]!.data).toMatchObject({ grantId, reason: 'expiry' });
    }, WAIT);
    expect(stateService.state.grant(grantId)?.status).toBe('revoked');
  });

  it('the same approval delivered twice gives one grant, one provision command, one GRANT', async () => {
    const requestId = requestOf('twice');
    const grantId = scenario.grantIdOf(requestId);
    const approval = scenario.approved(requestId, `approved-${requestId}`, new Date(Date.now() + 3_600_000).toISOString());
    await bus.publisher.publish(TOPICS.approvals, [approval]);
    await bus.publisher.publish(TOPICS.approvals, [approval]);
    // A marker behind both copies: same key, so same partition, handled strictly after them. It is for another
    // beneficiary, so its own GRANT cannot be mistaken for a second one of the grant under test.
    const markerRequest = requestOf('marker');
    const marker = { ...other.approved(markerRequest), subject: approval.subject };
    await bus.publisher.publish(TOPICS.approvals, [marker]);

    await eventually(async () => {
      expect(stateService.state.grant(grantId)?.status).toBe('active');
      expect(stateService.state.grant(other.grantIdOf(markerRequest))?.status).toBe('active');
      expect(await memberships(pg)).toBe(1);
      expect(await memberships(pg, otherRole)).toBe(1);
    }, WAIT);

    const created = (await readTopic(bus, TOPICS.grants, grantId)).filter((event) => isEvent(event, GrantCreated));
    expect(created).toHaveLength(1);
    const commands = (await readTopic(bus, connectorCommandsTopic(connectorId), grantId)).filter((event) => isEvent(event, ConnectorProvisionRequested));
    expect(commands).toHaveLength(1);
    // One GRANT is the membership count above and the single command; a batch redelivered after a
    // failed commit may run that command again, which then reports alreadyApplied: true.
    const results = await readTopic(bus, connectorResultsTopic(connectorId), grantId);
    expect(results.length).toBeGreaterThanOrEqual(1);
    expect(results.every((event) => event.type === 'iga.connector.provisioned.v1')).toBe(true);
  });

  it('a grant PostgreSQL refuses (no such login role) ends failed, with one terminal failure on the grants topic (the notifier alerts on it)', async () => {
    const ghost = new ProvisioningScenario({
      connectorId,
      entitlementId: scenario.entitlementId,
      groupRole,
      beneficiaryId: `${rolePrefix}ghost`,
      time: new Date().toISOString(),
    });
    const requestId = requestOf('ghost');
    const grantId = ghost.grantIdOf(requestId);
    await bus.publisher.publish(TOPICS.approvals, [ghost.approved(requestId, `approved-${requestId}`, new Date(Date.now() + 3_600_000).toISOString())]);

    await eventually(async () => {
      expect(stateService.state.grant(grantId)?.status).toBe('failed');
      const failures = (await readTopic(bus, TOPICS.grants, grantId)).filter((event) => isEvent(event, GrantProvisioningFailed));
      expect(failures.map((event) => event.data)).toEqual([expect.objectContaining({ terminal: true, code: 'not_found', operation: 'provision' })]);
    }, WAIT);
  });

  it('reconciliation reports access granted outside Grantline and access removed outside it, and nothing else', async () => {
    // The earlier tests leave two active grants with their memberships: ada's (`twice`) and bob's (`marker`).
    const bobsGrant = other.grantIdOf(requestOf('marker'));
    expect(stateService.state.grant(bobsGrant)?.status).toBe('active');
    await pg.query(`CREATE ROLE ${outsiderRole} LOGIN`);
    await pg.query(`GRANT ${groupRole} TO ${outsiderRole}`);
    await pg.query(`REVOKE ${groupRole} FROM ${otherRole}`);

    await provisioning!.app.get(ReconciliationTrigger).requestAll();

    const ofThisConnector = async (): Promise<Envelope[]> => {
      const events: Envelope[] = [];
      await bus.replay({
        topics: [TOPICS.grants],
        handler: async (event) => {
          if ((event.data as { connectorId?: string }).connectorId === connectorId) events.push(event);
        },
      });
      return events;
    };
    await eventually(async () => {
      const completed = (await ofThisConnector()).filter((event) => isEvent(event, GrantReconciliationCompleted));
      expect(completed.map((event) => event.data)).toEqual([
        expect.objectContaining({ assignments: 2, grantsExpected: 2, drift: { missingInTarget: 1, unexpectedInTarget: 1, expiredButPresent: 0 } }),
      ]);
    }, WAIT);
    const drift = (await ofThisConnector()).filter((event) => isEvent(event, GrantDriftDetected));
    expect(drift.map((event) => event.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      expect.objectContaining({ kind: 'missing_in_target', grantId: bobsGrant, targetAccount: otherRole, externalRef: groupRole, remediation: 'report_only' }),
      expect.objectContaining({ kind: 'unexpected_in_target', targetAccount: outsiderRole, externalRef: groupRole, remediation: 'report_only' }),
    ]);
    expect((drift.find((event) => (event.data as { kind: string }).kind === 'unexpected_in_target')!.data as { grantId?: string }).grantId).toBeUndefined();
  });

  it('with the connector down, a revocation waits and /metrics reports it in grantline_revocations_overdue (what on-call is paged on)', async () => {
    const overdue = async (): Promise<number | undefined> => {
      const response = await fetch(`${provisioning!.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const line = (await response.text()).split('\n').find((candidate) => candidate.startsWith(`grantline_revocations_overdue{connector="${connectorId}"`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    const requestId = requestOf('overdue');
    const grantId = scenario.grantIdOf(requestId);
    await bus.publisher.publish(TOPICS.approvals, [scenario.approved(requestId, `approved-${requestId}`, new Date(Date.now() + 3_600_000).toISOString())]);
    await eventually(() => expect(stateService.state.grant(grantId)?.status).toBe('active'), WAIT);
    // The marker grant of an earlier case is already past its expiry with no timer (this spec has no scheduler).
    const before = await overdue();
    expect(before).toBe(1);

    // The target goes away: nobody answers the removal.
    connector!.child.kill('SIGTERM');
    await connector!.exited;
    await bus.publisher.publish(TOPICS.schedule, [scenario.expired(grantId, `timer-${requestId}`)]);

    await eventually(async () => {
      expect(stateService.state.grant(grantId)?.status).toBe('deprovisioning');
      expect(await overdue()).toBe(before! + 1);
    }, WAIT);
  });
});
