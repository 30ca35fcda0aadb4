import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AuditLogCheckpointed, GrantCreated, RequestWithdrawn, TOPICS, createCatalogueRegistry, fixtureMeta, fixtureOf } from '@grantline/contracts';
import type { Envelope, LogCheckpointedData } from '@grantline/contracts';
import { InMemoryMessageBus, silentLogger } from '@grantline/messaging';
import type { RawLogRecord } from '@grantline/messaging';
import {
  createNoteSigner,
  formatCheckpoint,
  openSignedNote,
  parseCheckpoint,
  recordLeafData,
  verifyConsistency,
  verifyInclusion,
} from '@grantline/transparency';
import { ServiceConfigError } from '@grantline/service-kit';
import { loadAuditSigning } from './audit-signing.config';
import type { AuditSigning } from './audit-signing.config';
import { LogCheckpointer } from './log-checkpointer.service';
import { LogProofsService, ProofNotFound } from './log-proofs.service';

// An RFC 9162 2.1.1 Merkle Tree Hash written from the RFC, recursively, independent of the lib's MerkleLog.
const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
function rfcRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), rfcRoot(leaves.slice(0, k)), rfcRoot(leaves.slice(k)));
}

const dir = mkdtempSync(join(tmpdir(), 'audit-signing-'));
beforeAll(() => Logger.overrideLogger(false));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, type: 'ed25519' | 'ec' = 'ed25519'): string {
  const { privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(dir, name);
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return file;
}

const withdrawn = (id: string, requestId: string): Envelope =>
  createCatalogueRegistry().encode(
    RequestWithdrawn,
    { ...fixtureOf(RequestWithdrawn).data, requestId },
    fixtureMeta({ id, subject: requestId, correlationid: requestId }),
  );
const grantCreated = (id: string, requestId: string): Envelope =>
  createCatalogueRegistry().encode(GrantCreated, fixtureOf(GrantCreated).data, fixtureMeta({ id, subject: requestId, correlationid: requestId }));

describe('loadAuditSigning (fail closed)', () => {
  it('reads an Ed25519 PKCS#8 key, with its verifier key and an interval', () => {
    const signing = loadAuditSigning({ AUDIT_SIGNING_KEY_FILE: keyFile('ok.pem'), AUDIT_CHECKPOINT_INTERVAL_MS: '250' });
    expect(signing.keyName).toBe('grantline-audit');
    expect(signing.vkey).toMatch(/^grantline-audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(signing.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(signing.checkpointIntervalMs).toBe(250);
  });

  it.each([
    ['no key file set', {}, /AUDIT_SIGNING_KEY_FILE: required/],
    ['a missing file', { AUDIT_SIGNING_KEY_FILE: join(dir, 'absent.pem') }, /AUDIT_SIGNING_KEY_FILE: .*cannot be read \(ENOENT\)/],
    ['a file that is no key', { AUDIT_SIGNING_KEY_FILE: join(dir, 'junk.pem') }, /AUDIT_SIGNING_KEY_FILE: .*not a PEM private key/],
    ['an EC key', { AUDIT_SIGNING_KEY_FILE: keyFile('ec.pem', 'ec') }, /AUDIT_SIGNING_KEY_FILE: .*is a ec key; .*Ed25519 only/],
    ['a bad interval', { AUDIT_SIGNING_KEY_FILE: keyFile('ok2.pem'), AUDIT_CHECKPOINT_INTERVAL_MS: '10' }, /AUDIT_CHECKPOINT_INTERVAL_MS/],
    ['a key name with a space', { AUDIT_SIGNING_KEY_FILE: keyFile('ok3.pem'), AUDIT_SIGNING_KEY_NAME: 'a b' }, /AUDIT_SIGNING_KEY_NAME/],
  ])('refuses %s, naming the setting', (_case, env, message) => {
    writeFileSync(join(dir, 'junk.pem'), 'not a key');
    expect(() => loadAuditSigning(env)).toThrow(ServiceConfigError);
    expect(() => loadAuditSigning(env)).toThrow(message);
  });
});

describe('LogCheckpointer on the in-memory log', () => {
  const registry = createCatalogueRegistry();
  let signing: AuditSigning;
  const running: LogCheckpointer[] = [];

  beforeAll(() => {
    signing = loadAuditSigning({ AUDIT_SIGNING_KEY_FILE: keyFile('audit.pem') });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((checkpointer) => checkpointer.close()));
  });

  const start = async (bus: InMemoryMessageBus): Promise<LogCheckpointer> => {
    const checkpointer = new LogCheckpointer(bus, registry, signing);
    running.push(checkpointer);
    checkpointer.onApplicationBootstrap();
    await checkpointer.whenRebuilt();
    return checkpointer;
  };
  const newBus = (): InMemoryMessageBus => new InMemoryMessageBus({ registry, logger: silentLogger, defaultPartitions: 2 });
  const checkpoints = (bus: InMemoryMessageBus): LogCheckpointedData[] =>
    bus.events(TOPICS.audit).flatMap((event) => (event.type === AuditLogCheckpointed.type ? [event.data as LogCheckpointedData] : []));
  const rawRecords = async (bus: InMemoryMessageBus, topic: string, partition: number): Promise<RawLogRecord[]> => {
    const records: RawLogRecord[] = [];
    await bus.replayRaw({ topics: [topic], batchHandler: async (batch) => void records.push(...batch.filter((record) => record.partition === partition)) });
    return records;
  };

  it('publishes a signed checkpoint of each tree that grew, whose root an independent RFC 9162 recomputation from the records matches', async () => {
    const bus = newBus();
    bus.append(...Array.from({ length: 7 }, (_, i) => withdrawn(`w-${i}`, `req-${i}`)), grantCreated('g-1', 'req-1'));
    bus.appendRaw(TOPICS.requests, { key: 'req-x', value: '{not json', partition: 0 });
    const checkpointer = await start(bus);
    expect(checkpointer.isReady()).toBe(true);
    await checkpointer.tick();

    const published = checkpoints(bus);
    const trees = new Set(published.map((checkpoint) => `${checkpoint.topic}/${checkpoint.partition}`));
    expect(trees.size).toBe(published.length);
    expect([...trees].sort()).toEqual(expect.arrayContaining([`${TOPICS.grants}/${bus.records(TOPICS.grants)[0]!.partition}`]));
    for (const checkpoint of published) {
      const body = parseCheckpoint(openSignedNote(checkpoint.note, signing.vkey).body);
      const records = await rawRecords(bus, checkpoint.topic, checkpoint.partition);
      expect(body).toMatchObject({ origin: checkpoint.origin, size: records.length });
      expect(body.rootHash.toString('base64')).toBe(checkpoint.rootHash);
      expect(rfcRoot(records.map((record) => recordLeafData(record))).toString('base64')).toBe(checkpoint.rootHash);
      expect(checkpoint.lastOffset).toBe(records[records.length - 1]!.offset);
      expect(checkpoint.keyId).toBe(signing.signer.keyId.toString('hex'));
    }
    // The poison record is a leaf like any other: the tree of requests/0 covers it.
    expect(published.find((checkpoint) => checkpoint.topic === TOPICS.requests && checkpoint.partition === 0)?.treeSize).toBe(
      (await rawRecords(bus, TOPICS.requests, 0)).length,
    );

    // Nothing grew: nothing is published; one tree grew: only its checkpoint.
    await checkpointer.tick();
    expect(checkpoints(bus)).toHaveLength(published.length);
    bus.append(grantCreated('g-2', 'req-1'));
    await checkpointer.tick();
    const after = checkpoints(bus);
    expect(after).toHaveLength(published.length + 1);
    expect(after[after.length - 1]).toMatchObject({ topic: TOPICS.grants, treeSize: 2 });
  });

  it('answers inclusion proofs by event id and by position, and consistency proofs between checkpoints, that verify', async () => {
    const bus = newBus();
    bus.append(...Array.from({ length: 5 }, (_, i) => grantCreated(`g-${i}`, 'req-1')));
    const checkpointer = await start(bus);
    await checkpointer.tick();
    bus.append(...Array.from({ length: 6 }, (_, i) => grantCreated(`g-late-${i}`, 'req-1')));
    await checkpointer.tick();
    const proofs = new LogProofsService(checkpointer);
    const partition = bus.records(TOPICS.grants)[0]!.partition;

    const byId = proofs.inclusion({ eventId: 'g-3' });
    expect(byId).toMatchObject({ topic: TOPICS.grants, partition, leafIndex: 3, treeSize: 11 });
    const root = Buffer.from(byId.checkpoint.rootHash, 'base64');
    const proof = byId.proof.map((hash) => Buffer.from(hash, 'base64'));
    const record = (await rawRecords(bus, TOPICS.grants, partition))[3]!;
    const leaf = sha256(Buffer.from([0]), recordLeafData(record));
    expect(byId.leafHash).toBe(leaf.toString('base64'));
    expect(verifyInclusion(leaf, 3, 11, proof, root)).toBe(true);
    expect(parseCheckpoint(openSignedNote(byId.checkpoint.note, signing.vkey).body).rootHash.equals(root)).toBe(true);

    const older = proofs.inclusion({ topic: TOPICS.grants, partition, offset: record.offset, treeSize: 5 });
    expect(
      verifyInclusion(
        leaf,
        3,
        5,
        older.proof.map((hash) => Buffer.from(hash, 'base64')),
        Buffer.from(older.checkpoint.rootHash, 'base64'),
      ),
    ).toBe(true);

    const consistency = proofs.consistency({ topic: TOPICS.grants, partition, from: 5 });
    expect(consistency).toMatchObject({ from: 5, to: 11 });
    expect(consistency.fromCheckpoint?.treeSize).toBe(5);
    expect(
      verifyConsistency(
        5,
        11,
        Buffer.from(consistency.fromRoot, 'base64'),
        Buffer.from(consistency.toRoot, 'base64'),
        consistency.proof.map((hash) => Buffer.from(hash, 'base64')),
      ),
    ).toBe(true);

    expect(() => proofs.inclusion({ eventId: 'nobody' })).toThrow(ProofNotFound);
    expect(() => proofs.inclusion({ eventId: 'g-3', treeSize: 7 })).toThrow(/No checkpoint .* at size 7/);
    expect(() => proofs.consistency({ topic: TOPICS.requests, partition: 0, from: 1 })).toThrow(ProofNotFound);
    bus.append(grantCreated('g-unsigned', 'req-1'));
    await checkpointer.tick();
    expect(proofs.checkpointsOf(TOPICS.grants, partition).checkpoints.map((checkpoint) => checkpoint.treeSize)).toEqual([5, 11, 12]);
  });

  it('detects an edited log at restart: a tree whose root differs from its signed checkpoint fails closed and gets no new checkpoint', async () => {
    const bus = newBus();
    bus.append(...Array.from({ length: 4 }, (_, i) => grantCreated(`g-${i}`, 'req-1')), withdrawn('w-1', 'req-1'));
    const first = await start(bus);
    await first.tick();
    await first.close();
    const published = checkpoints(bus);
    const grants = published.find((checkpoint) => checkpoint.topic === TOPICS.grants)!;

    // What an edit of the first record looks like to a restart: a signed checkpoint at that size with another root.
    const wrongRoot = createHash('sha256').update('edited').digest();
    const note = signing.signer.sign(formatCheckpoint({ origin: grants.origin, size: grants.treeSize, rootHash: wrongRoot }));
    bus.append(
      registry.encode(
        AuditLogCheckpointed,
        { ...grants, rootHash: wrongRoot.toString('base64'), note },
        fixtureMeta({ id: 'forged-1', subject: grants.origin }),
      ),
    );
    // A checkpoint signed by another key says nothing about this log: ignored.
    const stranger = createNoteSigner('grantline-audit', generateKeyPairSync('ed25519').privateKey);
    const requests = published.find((checkpoint) => checkpoint.topic === TOPICS.requests)!;
    const strangerNote = stranger.sign(formatCheckpoint({ origin: requests.origin, size: requests.treeSize, rootHash: wrongRoot }));
    bus.append(registry.encode(AuditLogCheckpointed, { ...requests, note: strangerNote }, fixtureMeta({ id: 'forged-2', subject: requests.origin })));

    const second = await start(bus);
    expect(second.isReady()).toBe(false);
    expect(second.lastError).toMatch(
      new RegExp(`the log was edited: ${grants.origin.replace(/[.]/g, '\\.')}: the root of the first ${grants.treeSize} records differs`),
    );
    bus.append(grantCreated('g-after', 'req-1'), withdrawn('w-after', 'req-1'));
    await second.tick();
    const after = checkpoints(bus).slice(published.length + 2);
    expect(after.map((checkpoint) => checkpoint.topic)).toEqual([TOPICS.requests]);
  });

  it('detects a truncated log at restart: a tree shorter than a published size', async () => {
    const bus = newBus();
    bus.append(grantCreated('g-0', 'req-1'));
    const first = await start(bus);
    await first.tick();
    await first.close();
    const grants = checkpoints(bus)[0]!;
    const fresh = newBus();
    // Another log (one without the record) with the first log's checkpoint copied over, as a restore from a truncated backup would be.
    fresh.append(...bus.events(TOPICS.audit));
    const { clusterId } = await fresh.logIdentity();
    const moved = grants.origin.replace(/^grantline\/[^/]+\//, `grantline/${clusterId}/`);
    const note = signing.signer.sign(formatCheckpoint({ origin: moved, size: grants.treeSize, rootHash: Buffer.from(grants.rootHash, 'base64') }));
    fresh.append(registry.encode(AuditLogCheckpointed, { ...grants, origin: moved, note }, fixtureMeta({ id: 'moved-1', subject: moved })));
    const second = await start(fresh);
    expect(second.isReady()).toBe(false);
    expect(second.lastError).toContain(`${moved}: the log holds 0 records, but a checkpoint signed at ${grants.signedAt} covered 1`);
  });
});
