// The audit's tamper evidence on the real broker, as main.ts wires it (AppModule through the service kit): signed
// checkpoints whose roots match an independent recomputation from the topic's records, proofs from the API that
// verify, a last checkpoint at the stop, and a restart that finds the log edited and fails closed.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { createConnection } from 'mongoose';
import { AuditLogCheckpointed, GrantCreated, RequestWithdrawn, TOPICS, fixtureMeta, fixtureOf, registry } from '@grantline/contracts';
import type { Envelope, LogCheckpointedData } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { RawLogRecord } from '@grantline/messaging';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import {
  createNoteSigner,
  formatCheckpoint,
  openSignedNote,
  parseCheckpoint,
  recordLeafData,
  verifyConsistency,
  verifyInclusion,
} from '@grantline/transparency';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const ENV_KEYS = [
  'KAFKA_TOPIC_NAMESPACE',
  'MONGO_URL',
  'MONGO_DB',
  'PORT',
  'AUTH_MODE',
  'DEV_ISSUER_DIR',
  'LOG_LEVEL',
  'AUDIT_SIGNING_KEY_FILE',
  'AUDIT_CHECKPOINT_INTERVAL_MS',
] as const;
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

// RFC 9162 2.1.1 written from the RFC, recursively: independent of the lib's incremental MerkleLog.
const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
function rfcRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return sha256(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), rfcRoot(leaves.slice(0, k)), rfcRoot(leaves.slice(k)));
}

const grantCreated = (id: string, requestId: string): Envelope =>
  registry.encode(GrantCreated, fixtureOf(GrantCreated).data, fixtureMeta({ id, subject: requestId, correlationid: requestId }));
const withdrawn = (id: string, requestId: string): Envelope =>
  registry.encode(RequestWithdrawn, { ...fixtureOf(RequestWithdrawn).data, requestId }, fixtureMeta({ id, subject: requestId, correlationid: requestId }));

interface Http<T> {
  readonly status: number;
  readonly body: T;
}

describe('audit log checkpoints on the real broker', () => {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  const namespace = uniqueName('ckpt').replace(/_/g, '-');
  const database = uniqueName('audit_ckpt');
  const dir = mkdtempSync(join(tmpdir(), 'audit-ckpt-'));
  const keyFile = join(dir, 'audit-signing.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  let bus: KafkaMessageBus;
  let service: RunningService | undefined;
  let auditor: string;
  let member: string;

  const call = async <T>(path: string, token: string = auditor): Promise<Http<T>> => {
    const response = await fetch(`${service!.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as T };
  };
  const start = async (): Promise<RunningService> => {
    const { AppModule } = (await import('../app.module')) as { AppModule: Type<unknown> };
    service = await startService(AppModule, { serviceName: 'audit', groupId: uniqueName('audit_ckpt'), fromBeginning: true });
    return service;
  };
  const rawRecords = async (topic: string, partition: number): Promise<RawLogRecord[]> => {
    const records: RawLogRecord[] = [];
    await bus.replayRaw({ topics: [topic], batchHandler: async (batch) => void records.push(...batch.filter((record) => record.partition === partition)) });
    return records;
  };
  const publishedCheckpoints = async (): Promise<LogCheckpointedData[]> => {
    const found: LogCheckpointedData[] = [];
    await bus.replay({
      topics: [TOPICS.audit],
      handler: async (event) => void (event.type === AuditLogCheckpointed.type && found.push(event.data as LogCheckpointedData)),
    });
    return found;
  };

  beforeAll(async () => {
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    Object.assign(process.env, {
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_URL: mongoUrl,
      MONGO_DB: database,
      PORT: '0',
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: join(dir, 'issuer'),
      LOG_LEVEL: 'fatal',
      AUDIT_SIGNING_KEY_FILE: keyFile,
      AUDIT_CHECKPOINT_INTERVAL_MS: '500',
    });
    const issuer = await ensureDevIssuerKey(join(dir, 'issuer'));
    const mint = (subject: string, roles: ('auditor' | 'operator')[]): Promise<string> =>
      mintDevToken(issuer, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 900, roles });
    auditor = await mint('audrey', ['auditor']);
    member = await mint('mallory', ['operator']);
    bus = new KafkaMessageBus({ clientId: uniqueName('ckpt-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([
      { topic: TOPICS.grants, partitions: 2 },
      { topic: TOPICS.requests, partitions: 2 },
      { topic: TOPICS.audit },
      { topic: TOPICS.deadLetter },
    ]);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
    const connection = await createConnection(mongoDatabaseUrl(database)).asPromise();
    await connection.dropDatabase();
    await connection.close();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('publishes signed checkpoints that match the records, serves proofs that verify, signs at the stop, and fails closed on an edited log at restart', async () => {
    await bus.publisher.publish(
      TOPICS.grants,
      Array.from({ length: 5 }, (_, i) => grantCreated(`ckpt-g-${i}`, 'req-ckpt-1')),
    );
    await bus.publisher.publish(TOPICS.requests, [withdrawn('ckpt-w-1', 'req-ckpt-1')]);
    await start();

    // The key: a C2SP vkey of this private key; auditors only.
    const key = await call<{ vkey: string; publicKeyPem: string; keyName: string }>('/v1/audit/log/key');
    expect(key.status).toBe(200);
    expect(key.body.vkey).toMatch(/^grantline-audit\+[0-9a-f]{8}\+/);
    expect((await call('/v1/audit/log/key', member)).status).toBe(403);

    // A checkpoint of the grants tree covering the five records, signed, with the root of an independent recomputation.
    const partition = (await rawRecords(TOPICS.grants, 0)).length > 0 ? 0 : 1;
    const records = await rawRecords(TOPICS.grants, partition);
    expect(records).toHaveLength(5);
    const latest = await eventually(async () => {
      const answer = await call<{ checkpoints: { topic: string; partition: number; treeSize: number; rootHash: string; note: string }[] }>(
        '/v1/audit/log/checkpoints',
      );
      expect(answer.status).toBe(200);
      const found = answer.body.checkpoints.find((checkpoint) => checkpoint.topic === TOPICS.grants && checkpoint.partition === partition);
      expect(found?.treeSize).toBe(5);
      return found!;
    }, WAIT);
    const body = parseCheckpoint(openSignedNote(latest.note, key.body.vkey).body);
    expect(body.rootHash.toString('base64')).toBe(latest.rootHash);
    expect(rfcRoot(records.map((record) => recordLeafData(record))).toString('base64')).toBe(latest.rootHash);

    // An inclusion proof by event id that verifies against the signed root.
    const inclusion = await call<{ leafIndex: number; treeSize: number; leafHash: string; proof: string[]; checkpoint: { note: string } }>(
      '/v1/audit/log/proofs/inclusion?eventId=ckpt-g-2',
    );
    expect(inclusion.status).toBe(200);
    const leaf = sha256(Buffer.from([0]), recordLeafData(records[2]!));
    expect(inclusion.body).toMatchObject({ leafIndex: 2, treeSize: 5, leafHash: leaf.toString('base64') });
    const signedRoot = parseCheckpoint(openSignedNote(inclusion.body.checkpoint.note, key.body.vkey).body).rootHash;
    expect(
      verifyInclusion(
        leaf,
        2,
        5,
        inclusion.body.proof.map((hash) => Buffer.from(hash, 'base64')),
        signedRoot,
      ),
    ).toBe(true);
    expect((await call('/v1/audit/log/proofs/inclusion?eventId=nobody')).status).toBe(404);
    const bad = await call<{ errors?: { field: string }[] }>('/v1/audit/log/proofs/inclusion?partition=1');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('topic');

    // The tree grows; a consistency proof between the two signed sizes verifies.
    await bus.publisher.publish(
      TOPICS.grants,
      Array.from({ length: 3 }, (_, i) => grantCreated(`ckpt-g-late-${i}`, 'req-ckpt-1')),
    );
    const grown = await eventually(async () => {
      const answer = await call<{ from: number; to: number; fromRoot: string; toRoot: string; proof: string[] }>(
        `/v1/audit/log/proofs/consistency?topic=${TOPICS.grants}&partition=${partition}&from=5`,
      );
      expect(answer.status).toBe(200);
      expect(answer.body.to).toBe(8);
      return answer.body;
    }, WAIT);
    expect(grown.fromRoot).toBe(latest.rootHash);
    expect(
      verifyConsistency(
        5,
        8,
        Buffer.from(grown.fromRoot, 'base64'),
        Buffer.from(grown.toRoot, 'base64'),
        grown.proof.map((hash) => Buffer.from(hash, 'base64')),
      ),
    ).toBe(true);

    // At the stop the newest record is signed before the bus goes away.
    await bus.publisher.publish(TOPICS.grants, [grantCreated('ckpt-g-last', 'req-ckpt-1')]);
    await service!.stop();
    service = undefined;
    const atStop = (await publishedCheckpoints()).filter((checkpoint) => checkpoint.topic === TOPICS.grants && checkpoint.partition === partition);
    expect(atStop.map((checkpoint) => checkpoint.treeSize)).toContain(9);
    const last = atStop.find((checkpoint) => checkpoint.treeSize === 9)!;
    expect(rfcRoot((await rawRecords(TOPICS.grants, partition)).map((record) => recordLeafData(record))).toString('base64')).toBe(last.rootHash);

    // An edit the restart must see: a checkpoint signed by this key of size 9 with another root (what the log would
    // show had a record been changed after it was signed). One signed by another key is ignored.
    const forged = (origin: string, size: number, root: Buffer, signer = createNoteSigner('grantline-audit', privateKey)): string =>
      signer.sign(formatCheckpoint({ origin, size, rootHash: root }));
    const wrongRoot = sha256(Buffer.from('edited'));
    await bus.publisher.publish(TOPICS.audit, [
      registry.encode(
        AuditLogCheckpointed,
        { ...last, rootHash: wrongRoot.toString('base64'), note: forged(last.origin, 9, wrongRoot) },
        fixtureMeta({ id: 'ckpt-forged', subject: last.origin }),
      ),
    ]);
    await start();
    const ready = await eventually(async () => {
      const response = await fetch(`${service!.url}/health/ready`);
      const readiness = (await response.json()) as { error?: Record<string, { lastError?: string }> };
      expect(response.status).toBe(503);
      expect(readiness.error?.['audit log checkpoints']?.lastError).toContain('the log was edited');
      return readiness;
    }, WAIT);
    expect(ready.error?.['audit log checkpoints']?.lastError).toContain(`${last.origin}: the root of the first 9 records differs`);
    expect((await call('/v1/audit/log/checkpoints')).status).toBe(503);
    // Nothing more is signed for the edited tree, though it grows.
    // (by tree and size, not by position: a replay of the audit topic reads its partitions one after the other)
    const signature = (checkpoint: LogCheckpointedData): string => `${checkpoint.origin}@${checkpoint.treeSize}`;
    const before = new Set((await publishedCheckpoints()).map(signature));
    await bus.publisher.publish(TOPICS.grants, [grantCreated('ckpt-g-after', 'req-ckpt-1')]);
    await bus.publisher.publish(TOPICS.requests, [withdrawn('ckpt-w-after', 'req-ckpt-1')]);
    const after = await eventually(async () => {
      const fresh = (await publishedCheckpoints()).filter((checkpoint) => !before.has(signature(checkpoint)));
      expect(fresh.map((checkpoint) => checkpoint.topic)).toContain(TOPICS.requests);
      return fresh;
    }, WAIT);
    expect(after.map((checkpoint) => checkpoint.origin)).not.toContain(last.origin);
  }, 240_000);
});
