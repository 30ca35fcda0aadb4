// The credential issuer on the connector host, in-process, on real Kafka and the MongoDB-wire store of jest's global
// setup: the SDK's conformance suite against the MongoDB ledger, then a credential ask on the commands topic handed
// over once through the retrieval endpoint, verified against the published keys, and revoked with its grant.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import {
  ConnectorAccessDenied,
  ConnectorCredentialRotated,
  ConnectorDeprovisionRequested,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorRotationRequested,
  connectorCommandsTopic,
  connectorResultsTopic,
  registry,
  rotatedCredentialIdOf,
} from '@grantline/contracts';
import type { Envelope, ProvisionedData } from '@grantline/contracts';
import { SealingKey, startConnector } from '@grantline/connector-host';
import type { RunningConnector } from '@grantline/connector-host';
import { describeConnectorConformance, fingerprintSecret } from '@grantline/connector-sdk';
import { CredentialIssuerConnector, ensureDevIssuerKeys, loadIssuerKeys } from '@grantline/credential-issuer';
import type { IssuerKeyFiles, IssuerKeys } from '@grantline/credential-issuer';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { eventually, infraEndpoints, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { credentialsConnector } from './connector';
import { MongoCredentialLedger } from './mongo-credential.ledger';

const { kafkaBrokers } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };
const ISSUER = 'urn:grantline:credentials:int-spec';

let dir: string;
let keyFiles: IssuerKeyFiles;
let keys: IssuerKeys;
let conformanceDb: Connection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connector-credentials-'));
  keyFiles = await ensureDevIssuerKeys(join(dir, 'issuer'));
  keys = await loadIssuerKeys(keyFiles);
  conformanceDb = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('credentials_conformance')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
}, 60_000);

afterAll(async () => {
  await conformanceDb?.dropDatabase();
  await conformanceDb?.close();
  await rm(dir, { recursive: true, force: true });
});

let fixtureSequence = 0;
describeConnectorConformance('credential issuer (MongoDB ledger)', async () => {
  fixtureSequence += 1;
  const connectorId = `credentials-${hex}-${fixtureSequence}`;
  const connector = new CredentialIssuerConnector({
    id: 'credentials',
    issuer: ISSUER,
    keys,
    // One ledger namespace per test: the suite expects a fresh target every time.
    ledger: new MongoCredentialLedger(conformanceDb, connectorId),
    entitlements: ['deploy:prod', 'deploy:staging'],
    managedPrefix: 'deploy:',
  });
  let unreachableDb: Connection | undefined;
  return {
    connector,
    accounts: ['ci-pipeline', 'batch-job'],
    entitlements: ['deploy:prod', 'deploy:staging'],
    missingEntitlement: 'deploy:missing',
    unmanagedEntitlement: 'other:prod',
    newCredentialAccount: `workload-${fixtureSequence}`,
    unreachableConnector: () => {
      // No buffering: a call fails at once instead of waiting for a connection that never comes.
      unreachableDb = mongoose.createConnection('mongodb://127.0.0.1:1/closed', { serverSelectionTimeoutMS: 300, bufferCommands: false });
      unreachableDb.on('error', () => undefined);
      return new CredentialIssuerConnector({
        id: 'credentials',
        issuer: ISSUER,
        keys,
        ledger: new MongoCredentialLedger(unreachableDb, connectorId),
        entitlements: ['deploy:prod'],
        managedPrefix: 'deploy:',
      });
    },
    dispose: async () => {
      await unreachableDb?.close().catch(() => undefined);
    },
  };
});

function captureLogs(): { destination: Writable; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { destination, text: () => chunks.join('') };
}

describe('connector-credentials on real Kafka and MongoDB', () => {
  const connectorId = `credentials-${hex}`;
  const logs = captureLogs();
  let bus: KafkaMessageBus;
  let running: RunningConnector | undefined;
  let tokenOf: (subject: string) => Promise<string>;

  const meta = (id: string, subject: string) => ({
    id,
    source: 'spec',
    time: new Date().toISOString(),
    subject,
    correlationid: subject,
    actor: { kind: 'service' as const, id: 'provisioning' },
  });

  function provision(grantId: string, entitlementRef: string, type: 'short_lived_token' | 'x509_certificate', expiresAt: Date): Envelope {
    return registry.encode(
      ConnectorProvisionRequested,
      {
        commandId: `${grantId}:provision:1`,
        connectorId,
        grantId,
        targetAccount: 'ci-pipeline',
        entitlementRef,
        idempotencyKey: `${grantId}:provision`,
        expiresAt: expiresAt.toISOString(),
        credential: { type, ttlSeconds: 86_400, holders: ['owner-1', 'ci-pipeline'] },
      },
      meta(`cmd-${grantId}`, grantId),
    );
  }

  async function resultsOf(subject: string): Promise<Envelope[]> {
    const found: Envelope[] = [];
    await bus.replay({
      topics: [connectorResultsTopic(connectorId)],
      handler: async (event) => {
        if (event.subject === subject) found.push(event);
      },
    });
    return found;
  }

  async function retrieve(credentialId: string, subject: string): Promise<Response> {
    return fetch(`${running!.url}/v1/connectors/${connectorId}/credentials/${credentialId}/retrieval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenOf(subject)}` },
    });
  }

  beforeAll(async () => {
    const devIssuerDir = join(dir, 'dev-issuer');
    const devKey = await ensureDevIssuerKey(devIssuerDir);
    tokenOf = (subject) => mintDevToken(devKey, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 600 });
    bus = new KafkaMessageBus({ clientId: uniqueName('credentials-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    running = await startConnector(credentialsConnector, {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        AUTH_MODE: 'dev',
        DEV_ISSUER_DIR: devIssuerDir,
        MONGO_DB: uniqueName('connector_credentials_spec'),
        CONNECTOR_ID: connectorId,
        CONNECTOR_MAX_ATTEMPTS: '2',
        CREDENTIAL_SEALING_KEY: SealingKey.generateBase64(),
        CREDENTIAL_ISSUER: ISSUER,
        CREDENTIAL_JWT_KEY_FILE: keyFiles.jwtKeyFile,
        CREDENTIAL_CA_KEY_FILE: keyFiles.caKeyFile,
        CREDENTIAL_CA_CERT_FILE: keyFiles.caCertFile,
      },
      logDestination: logs.destination,
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await bus?.disconnect();
  });

  it('hands a JWT over once to a holder; anyone else is refused and recorded; the revoked grant puts its jti on the list', async () => {
    const grantId = `g-${hex}-jwt`;
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [provision(grantId, 'deploy-api-prod', 'short_lived_token', expiresAt)]);
    const [provisioned] = await eventually(async () => {
      const found = (await resultsOf(grantId)).filter((event) => event.type === ConnectorProvisioned.type);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    const credential = (provisioned!.data as ProvisionedData).credential!;
    expect(credential).toMatchObject({ credentialId: grantId, type: 'short_lived_token', credentialRef: `sealed://${connectorId}/${grantId}` });

    const stranger = await retrieve(grantId, 'mallory');
    expect(stranger.status).toBe(404);

    const first = await retrieve(grantId, 'owner-1');
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const body = (await first.json()) as { credentialId: string; type: string; secret: string; expiresAt: string };
    expect(body).toMatchObject({ credentialId: grantId, type: 'short_lived_token', expiresAt: expiresAt.toISOString() });
    expect(fingerprintSecret(body.secret)).toBe(credential.fingerprint);

    expect((await retrieve(grantId, 'owner-1')).status).toBe(410);
    expect((await retrieve(grantId, 'ci-pipeline')).status).toBe(410);

    const jwks = (await (await fetch(`${running!.url}/.well-known/jwks.json`)).json()) as { keys: never[] };
    const { payload } = await jwtVerify(body.secret, createLocalJWKSet({ keys: jwks.keys }), { issuer: ISSUER, audience: 'deploy-api-prod' });
    expect(payload).toMatchObject({ sub: 'ci-pipeline', jti: grantId, exp: expiresAt.getTime() / 1000, scope: 'deploy-api-prod' });

    await bus.publisher.publish(connectorCommandsTopic(connectorId), [
      registry.encode(
        ConnectorDeprovisionRequested,
        {
          commandId: `${grantId}:deprovision:1`,
          connectorId,
          grantId,
          targetAccount: 'ci-pipeline',
          entitlementRef: 'deploy-api-prod',
          idempotencyKey: `${grantId}:deprovision`,
          reason: 'revocation',
        },
        meta(`cmd-${grantId}-deprovision`, grantId),
      ),
    ]);
    const revoked = await eventually(async () => {
      const list = await fetch(`${running!.url}/v1/credentials/revocations`);
      expect(list.headers.get('content-type')).toMatch(/^application\/jwt/);
      const verified = await jwtVerify(await list.text(), createLocalJWKSet({ keys: jwks.keys }), { issuer: ISSUER });
      expect(verified.payload['revoked']).toEqual([{ jti: grantId, exp: expiresAt.getTime() / 1000 }]);
      return verified;
    }, WAIT);
    expect(revoked.protectedHeader.typ).toBe('revocation-list+jwt');

    const denied = await eventually(async () => {
      const found = (await resultsOf('mallory')).filter((event) => event.type === ConnectorAccessDenied.type);
      expect(found).toHaveLength(1);
      return found[0]!;
    }, WAIT);
    expect(denied.data).toMatchObject({ connectorId, principalId: 'mallory', status: 404, objectRef: `credential:${grantId}` });

    expect(logs.text()).not.toContain(body.secret);
    expect(logs.text()).not.toContain(body.secret.split('.')[2]!);
  });

  it('erases an unretrieved secret when its grant is revoked: the holder then gets 410', async () => {
    const grantId = `g-${hex}-unretrieved`;
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [provision(grantId, 'mesh-prod', 'x509_certificate', new Date(Date.now() + 3_600_000))]);
    await eventually(async () => expect((await resultsOf(grantId)).filter((event) => event.type === ConnectorProvisioned.type)).toHaveLength(1), WAIT);
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [
      registry.encode(
        ConnectorDeprovisionRequested,
        {
          commandId: `${grantId}:deprovision:1`,
          connectorId,
          grantId,
          targetAccount: 'ci-pipeline',
          entitlementRef: 'mesh-prod',
          idempotencyKey: `${grantId}:deprovision`,
          reason: 'expiry',
        },
        meta(`cmd-${grantId}-deprovision`, grantId),
      ),
    ]);
    await eventually(async () => expect((await resultsOf(grantId)).map((event) => event.type)).toHaveLength(2), WAIT);
    expect((await retrieve(grantId, 'owner-1')).status).toBe(410);
    const crl = await (await fetch(`${running!.url}/v1/credentials/crl`)).text();
    expect(crl).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(decodeJwt(await (await fetch(`${running!.url}/v1/credentials/revocations`)).text())['revoked']).toHaveLength(1);
  });

  it("replaces a grant's JWT on a rotation for new holders: the old one is revoked and its unretrieved secret erased; the grant's end revokes both", async () => {
    const grantId = `g-${hex}-rotated`;
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [provision(grantId, 'deploy-api-prod', 'short_lived_token', expiresAt)]);
    await eventually(async () => expect((await resultsOf(grantId)).filter((event) => event.type === ConnectorProvisioned.type)).toHaveLength(1), WAIT);
    const newCredentialId = rotatedCredentialIdOf(grantId, 1);
    await bus.publisher.publish(connectorCommandsTopic(connectorId), [
      registry.encode(
        ConnectorRotationRequested,
        {
          commandId: `${grantId}:rotate:1`,
          connectorId,
          grantId,
          targetAccount: 'ci-pipeline',
          entitlementRef: 'deploy-api-prod',
          reason: 'owner_changed',
          rotation: 1,
          idempotencyKey: `${grantId}:rotate`,
          credential: { credentialId: newCredentialId, type: 'short_lived_token', holders: ['owner-2', 'ci-pipeline'], expiresAt: expiresAt.toISOString() },
        },
        meta(`cmd-${grantId}-rotate`, grantId),
      ),
    ]);
    const [rotated] = await eventually(async () => {
      const found = (await resultsOf(grantId)).filter((event) => event.type === ConnectorCredentialRotated.type);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    expect(rotated!.data).toMatchObject({
      rotation: 1,
      alreadyApplied: false,
      credential: { credentialId: newCredentialId, expiresAt: expiresAt.toISOString() },
    });

    expect((await retrieve(grantId, 'owner-1')).status).toBe(410);
    expect((await retrieve(newCredentialId, 'owner-1')).status).toBe(404);
    const handed = await retrieve(newCredentialId, 'owner-2');
    expect(handed.status).toBe(200);
    const { secret } = (await handed.json()) as { secret: string };
    expect(fingerprintSecret(secret)).toBe((rotated!.data as { credential: { fingerprint: string } }).credential.fingerprint);
    const revokedJtis = async (): Promise<string[]> =>
      (decodeJwt(await (await fetch(`${running!.url}/v1/credentials/revocations`)).text())['revoked'] as { jti: string }[]).map((entry) => entry.jti);
    expect(await revokedJtis()).toContain(grantId);
    expect(await revokedJtis()).not.toContain(newCredentialId);

    await bus.publisher.publish(connectorCommandsTopic(connectorId), [
      registry.encode(
        ConnectorDeprovisionRequested,
        {
          commandId: `${grantId}:deprovision:1`,
          connectorId,
          grantId,
          targetAccount: 'ci-pipeline',
          entitlementRef: 'deploy-api-prod',
          idempotencyKey: `${grantId}:deprovision`,
          reason: 'expiry',
        },
        meta(`cmd-${grantId}-deprovision`, grantId),
      ),
    ]);
    await eventually(async () => expect(await revokedJtis()).toEqual(expect.arrayContaining([grantId, newCredentialId])), WAIT);
  });

  it('answers 400 naming the field for a malformed credential id, and 401 without a token', async () => {
    const bad = await fetch(`${running!.url}/v1/connectors/${connectorId}/credentials/${encodeURIComponent('../x')}/retrieval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenOf('owner-1')}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ field: 'credentialId' }] });
    expect((await fetch(`${running!.url}/v1/connectors/${connectorId}/credentials/anything/retrieval`, { method: 'POST' })).status).toBe(401);
  });
});
