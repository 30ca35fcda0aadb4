// A PostgreSQL login with VALID UNTIL, issued by the real connector on the connector host (in-process, real Kafka,
// MongoDB and PostgreSQL from jest's global setup), goes through the host's sealed vault: its holder retrieves the
// password once over the retrieval endpoint and logs in with it; a second retrieval is refused.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import { ConnectorProvisioned, ConnectorProvisionRequested, connectorCommandsTopic, connectorResultsTopic, registry } from '@grantline/contracts';
import type { Envelope, ProvisionedData } from '@grantline/contracts';
import { SealingKey, startConnector } from '@grantline/connector-host';
import type { RunningConnector } from '@grantline/connector-host';
import { fingerprintSecret } from '@grantline/connector-sdk';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { postgresConnector } from './connector';

const { kafkaBrokers, pgUrl } = infraEndpoints();
const RUN = `gl${randomBytes(3).toString('hex')}`;
const GROUP = `${RUN}_grp_read`;
const LOGIN = `${RUN}_cred_ci`;
const connectorId = `postgres-${RUN}`;
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };

describe('a PostgreSQL login issued through the sealed handoff', () => {
  const admin = new Client({ connectionString: pgUrl });
  let dir: string;
  let bus: KafkaMessageBus;
  let running: RunningConnector | undefined;
  let tokenOf: (subject: string) => Promise<string>;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${escapeIdentifier(GROUP)} NOLOGIN`);
    dir = await mkdtemp(join(tmpdir(), 'pg-handoff-'));
    const devKey = await ensureDevIssuerKey(join(dir, 'dev-issuer'));
    tokenOf = (subject) => mintDevToken(devKey, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 300 });
    bus = new KafkaMessageBus({ clientId: uniqueName('pg-handoff-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    running = await startConnector(postgresConnector, {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        AUTH_MODE: 'dev',
        DEV_ISSUER_DIR: join(dir, 'dev-issuer'),
        MONGO_DB: uniqueName('pg_handoff_spec'),
        CONNECTOR_ID: connectorId,
        CONNECTOR_MAX_ATTEMPTS: '2',
        CREDENTIAL_SEALING_KEY: SealingKey.generateBase64(),
        PG_URL: pgUrl,
        PG_MANAGED_ROLE_PREFIX: `${RUN}_grp_`,
        PG_CREDENTIAL_ROLE_PREFIX: `${RUN}_cred_`,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await bus?.disconnect();
    await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(LOGIN)}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(GROUP)}`).catch(() => undefined);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the login password to its holder once; it opens a session until VALID UNTIL', async () => {
    const grantId = `g-${RUN}`;
    const expiresAt = new Date(Date.now() + 3_600_000);
    const command = registry.encode(
      ConnectorProvisionRequested,
      {
        commandId: `${grantId}:provision:1`,
        connectorId,
        grantId,
        targetAccount: LOGIN,
        entitlementRef: GROUP,
        idempotencyKey: `${grantId}:provision`,
        expiresAt: expiresAt.toISOString(),
        credential: { type: 'database_role', ttlSeconds: 900, holders: ['owner-of-ci'] },
      },
      {
        id: `cmd-${grantId}`,
        source: 'spec',
        time: new Date().toISOString(),
        subject: grantId,
        correlationid: grantId,
        actor: { kind: 'service', id: 'provisioning' },
      },
    );
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [command]);
    const provisioned = await eventually(async () => {
      const found: Envelope[] = [];
      await bus.replay({ topics: [connectorResultsTopic(connectorId)], handler: async (event) => void (event.subject === grantId && found.push(event)) });
      expect(found.map((event) => event.type)).toEqual([ConnectorProvisioned.type]);
      return found[0]!.data as ProvisionedData;
    }, WAIT);
    expect(provisioned.credential).toMatchObject({ type: 'database_role', credentialRef: `sealed://${connectorId}/${grantId}` });

    const retrieve = async (subject: string): Promise<Response> =>
      fetch(`${running!.url}/v1/connectors/${connectorId}/credentials/${grantId}/retrieval`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokenOf(subject)}` },
      });
    expect((await retrieve('someone-else')).status).toBe(404);
    const first = await retrieve('owner-of-ci');
    expect(first.status).toBe(200);
    const { secret, type } = (await first.json()) as { secret: string; type: string };
    expect(type).toBe('database_role');
    expect(fingerprintSecret(secret)).toBe(provisioned.credential!.fingerprint);
    expect((await retrieve('owner-of-ci')).status).toBe(410);

    const url = new URL(pgUrl);
    url.username = LOGIN;
    url.password = secret;
    const session = new Client({ connectionString: url.toString() });
    await session.connect();
    try {
      const { rows } = await session.query<{ user: string }>('SELECT current_user AS user');
      expect(rows[0]?.user).toBe(LOGIN);
    } finally {
      await session.end();
    }
    const { rows } = await admin.query<{ until: Date }>('SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1', [LOGIN]);
    expect(Math.abs(rows[0]!.until.getTime() - (Date.now() + 900_000))).toBeLessThan(60_000);
  });
});
