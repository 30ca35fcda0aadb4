// The host as a connector app runs it, in-process, around the SDK's in-memory connector: real Kafka (the topics of a
// connector id of this spec's own) and the MongoDB-wire store from jest's global setup. The PostgreSQL connector in
// the same host, as its own process, is proven by provisioning's provisioning.int.spec.ts and the e2e scenarios.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import {
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorStateReported,
  ConnectorStateReportRequested,
  connectorCommandsTopic,
  connectorResultsTopic,
  registry,
} from '@grantline/contracts';
import type { Envelope, ProvisionedData, StateReportedData } from '@grantline/contracts';
import { InMemoryConnector, fingerprintSecret } from '@grantline/connector-sdk';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { CREDENTIAL_VAULT } from './credentials/credential-retrieval.controller';
import type { SealedSecretVault } from './credentials/sealed-secret.vault';
import { SealingKey } from './credentials/sealing-key';
import { defineConnector } from './connector-definition';
import { connectorConfigLoader } from './connector-host.config';
import { startConnector } from './run-connector';
import type { RunningConnector } from './run-connector';

const { kafkaBrokers } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const connectorId = `fake-${hex}`;
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };
const devIssuerDir = join(mkdtempSync(join(tmpdir(), 'connector-host-spec-')), 'dev-issuer');

const target = new InMemoryConnector({ id: connectorId, accounts: ['ada'], entitlements: ['grantline_read'] });
let closes = 0;
const fake = defineConnector({
  serviceName: 'connector-fake',
  defaultPort: 3199,
  loadConfig: connectorConfigLoader({ defaultConnectorId: 'fake', env: z.object({}), target: () => ({}) }),
  // CONNECTOR_ID names it in the environment below; the host refuses a connector built under another id.
  create: () => Object.assign(target, { close: async () => void closes++ }),
});

const meta = (id: string, subject: string) => ({
  id,
  source: 'spec',
  time: new Date().toISOString(),
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'provisioning' },
});

function provision(grantId: string, account: string, credential?: { type: 'database_role'; ttlSeconds: number; holders: string[] }): Envelope {
  return registry.encode(
    ConnectorProvisionRequested,
    {
      commandId: `${grantId}:provision:1`,
      connectorId,
      grantId,
      targetAccount: account,
      entitlementRef: 'grantline_read',
      idempotencyKey: `${grantId}:provision`,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      ...(credential ? { credential } : {}),
    },
    meta(`cmd-${grantId}`, grantId),
  );
}

function captureLogs(): { destination: Writable; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const records = (): Record<string, unknown>[] =>
    lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { destination, records };
}

describe('the connector host on real Kafka and MongoDB', () => {
  const logs = captureLogs();
  let bus: KafkaMessageBus;
  let running: RunningConnector | undefined;

  /** The committed results answering one command (results are published in the command's transaction). */
  async function resultsFor(causationid: string): Promise<Envelope[]> {
    const found: Envelope[] = [];
    await bus.replay({
      topics: [connectorResultsTopic(connectorId)],
      handler: async (event) => {
        if (event.causationid === causationid) found.push(event);
      },
    });
    return found;
  }

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('connector-host-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    running = await startConnector(fake, {
      env: {
        ...process.env,
        PORT: '0',
        LOG_LEVEL: 'info',
        MONGO_DB: uniqueName('connector_host_spec'),
        CONNECTOR_ID: connectorId,
        CONNECTOR_MAX_ATTEMPTS: '2',
        CREDENTIAL_SEALING_KEY: SealingKey.generateBase64(),
        AUTH_MODE: 'dev',
        HOST: '127.0.0.1',
        DEV_ISSUER_DIR: devIssuerDir,
      },
      logDestination: logs.destination,
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await bus?.disconnect();
  });

  it('is ready, consuming as connector-<kind>-<id> with the connector id from CONNECTOR_ID', async () => {
    const response = await fetch(`${running!.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(running!.connectorConfig).toMatchObject({ connectorId, retry: { maxAttempts: 2 } });
    expect(logs.records().find((record) => record['msg'] === 'ready')).toMatchObject({ service: 'connector-fake', groupId: `connector-fake-${connectorId}` });
  });

  it('answers a command on iga.connectors.<id>.commands.v1 with one result on its results topic', async () => {
    const command = provision(`g-${hex}-1`, 'ada');
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [command]);

    const results = await eventually(async () => {
      const found = await resultsFor(command.id);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    expect(results[0]).toMatchObject({ type: ConnectorProvisioned.type, subject: command.subject, source: `grantline/connector-${connectorId}` });
    expect(results[0]!.data).toMatchObject({ grantId: `g-${hex}-1`, alreadyApplied: false });
    expect(target.calls.filter((call) => call === 'provision')).toHaveLength(1);
  });

  it("seals an issued secret in the host's vault for its holders; the result names it by reference and fingerprint only", async () => {
    const command = provision(`g-${hex}-2`, 'svc_ci', { type: 'database_role', ttlSeconds: 600, holders: ['owner-of-ci'] });
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [command]);

    const [result] = await eventually(async () => {
      const found = await resultsFor(command.id);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    const credential = (result!.data as ProvisionedData).credential!;
    expect(credential.credentialRef).toBe(`sealed://${connectorId}/g-${hex}-2`);
    const vault = running!.app.get<SealedSecretVault>(CREDENTIAL_VAULT);
    await expect(vault.describe(`g-${hex}-2`)).resolves.toMatchObject({ state: 'sealed', holders: ['owner-of-ci'], hasCiphertext: true });

    const token = await mintDevToken(await ensureDevIssuerKey(devIssuerDir), {
      subject: 'owner-of-ci',
      audience: DEFAULT_AUDIENCE,
      issuer: DEV_ISSUER,
      ttlSeconds: 300,
    });
    // Under another connector's id the holder finds nothing here (and nothing is handed over).
    const elsewhere = await fetch(`${running!.url}/v1/connectors/not-${connectorId}/credentials/g-${hex}-2/retrieval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(elsewhere.status).toBe(404);
    const retrieval = await fetch(`${running!.url}/v1/connectors/${connectorId}/credentials/g-${hex}-2/retrieval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(retrieval.status).toBe(200);
    const { secret } = (await retrieval.json()) as { secret: string };
    expect(credential.fingerprint).toBe(fingerprintSecret(secret));
    await expect(vault.describe(`g-${hex}-2`)).resolves.toMatchObject({ state: 'retrieved', retrievedBy: 'owner-of-ci', hasCiphertext: false });
  });

  it('answers a state report request with the actual state under the report id', async () => {
    const reportId = `rpt-${hex}`;
    const request = registry.encode(
      ConnectorStateReportRequested,
      { reportId, connectorId, requestedAt: new Date().toISOString() },
      meta(`req-${reportId}`, reportId),
    );
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [request]);

    const [page] = await eventually(async () => {
      const found = await resultsFor(request.id);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    expect(page).toMatchObject({ type: ConnectorStateReported.type, subject: reportId });
    const data = page!.data as StateReportedData;
    expect(data).toMatchObject({ reportId, page: 1, lastPage: true });
    expect(data.assignments).toEqual(
      expect.arrayContaining([
        { targetAccount: 'ada', entitlementRef: 'grantline_read' },
        { targetAccount: 'svc_ci', entitlementRef: 'grantline_read' },
      ]),
    );
  });

  it('closes the connector when it stops', async () => {
    await running!.stop();
    expect(closes).toBe(1);
  });
});
