// `grantline export` on the real broker: a small live log with checkpoints signed as the audit signs them, exported
// and verified clean by the bundle verifier; a log whose signed checkpoint no longer matches is refused.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogCheckpointed, GrantCreated, RequestWithdrawn, TOPICS, fixtureMeta, fixtureOf, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { MerkleLog, createNoteSigner, formatCheckpoint, recordLeafHash, treeOrigin, verifierKey } from '@grantline/transparency';
import { verifyBundleDir } from '../evidence-bundle/verify-commands';
import { bufferedOutput } from '../output';
import { EXPORT_EXIT, VERIFY_TOPICS_EXIT, exportCommand, verifyTopicsCommand } from './export-command';

const { kafkaBrokers } = infraEndpoints();

const grantCreated = (id: string): Envelope => registry.encode(GrantCreated, fixtureOf(GrantCreated).data, fixtureMeta({ id, subject: 'req-export-1' }));
const withdrawn = (id: string, requestId: string): Envelope =>
  registry.encode(RequestWithdrawn, { ...fixtureOf(RequestWithdrawn).data, requestId }, fixtureMeta({ id, subject: requestId, correlationid: requestId }));

describe('grantline export (real broker)', () => {
  const namespace = uniqueName('export').replace(/_/g, '-');
  const dir = mkdtempSync(join(tmpdir(), 'grantline-export-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = createNoteSigner('grantline-audit', privateKey);
  const keyFile = join(dir, 'verifier.vkey');
  let bus: KafkaMessageBus;

  beforeAll(async () => {
    writeFileSync(keyFile, `${verifierKey('grantline-audit', publicKey)}\n`);
    bus = new KafkaMessageBus({ clientId: uniqueName('export-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([{ topic: TOPICS.grants, partitions: 2 }, { topic: TOPICS.requests, partitions: 2 }, { topic: TOPICS.audit }]);
  }, 60_000);

  afterAll(async () => {
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Signs a checkpoint of every tree, as the audit's checkpointer does; `root` overrides a tree's true root. */
  const checkpointAll = async (root?: (origin: string) => Buffer | undefined): Promise<void> => {
    const { clusterId, namespace: ns } = await bus.logIdentity();
    const trees = new Map<string, { topic: string; partition: number; log: MerkleLog; lastOffset: string }>();
    await bus.replayRaw({
      topics: [TOPICS.grants, TOPICS.requests],
      batchHandler: async (records) => {
        for (const record of records) {
          const origin = treeOrigin({ clusterId, ...(ns ? { namespace: ns } : {}), topic: record.topic, partition: record.partition });
          const tree = trees.get(origin) ?? { topic: record.topic, partition: record.partition, log: new MerkleLog(), lastOffset: '0' };
          tree.log.append(recordLeafHash(record));
          tree.lastOffset = record.offset;
          trees.set(origin, tree);
        }
      },
    });
    const events = [...trees].map(([origin, tree]) => {
      const rootHash = root?.(origin) ?? tree.log.root();
      const signedAt = new Date().toISOString();
      return registry.encode(
        AuditLogCheckpointed,
        {
          origin,
          topic: tree.topic,
          partition: tree.partition,
          treeSize: tree.log.size,
          rootHash: rootHash.toString('base64'),
          lastOffset: tree.lastOffset,
          note: signer.sign(formatCheckpoint({ origin, size: tree.log.size, rootHash })),
          keyName: signer.name,
          keyId: signer.keyId.toString('hex'),
          signedAt,
        },
        fixtureMeta({ id: `ckpt-${origin}-${tree.log.size}-${Math.random()}`, subject: origin, time: signedAt }),
      );
    });
    await bus.publisher.publish(TOPICS.audit, events);
  };

  it('writes a bundle of the period that the verifier finds clean, then refuses a log that no longer matches its checkpoints', async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    await bus.publisher.publish(
      TOPICS.grants,
      Array.from({ length: 6 }, (_, i) => grantCreated(`export-g-${i}`)),
    );
    await checkpointAll();
    await bus.publisher.publish(
      TOPICS.requests,
      Array.from({ length: 4 }, (_, i) => withdrawn(`export-w-${i}`, `req-export-${i}`)),
    );
    await checkpointAll();
    // Not signed yet: left out of the bundle, and said so.
    await bus.publisher.publish(TOPICS.grants, [grantCreated('export-g-unsigned')]);
    const after = new Date(Date.now() + 60_000).toISOString();

    const out = join(dir, 'bundle');
    const io = bufferedOutput();
    expect(await exportCommand(bus, { from: before, to: after, out, key: keyFile }, io)).toBe(EXPORT_EXIT.ok);
    expect(io.stderr()).toContain('1 record(s) of the period are not covered by a checkpoint yet');
    const result = verifyBundleDir(out);
    expect(result.fileProblems).toEqual([]);
    expect(result.report).toMatchObject({ ok: true, events: 10 });
    const lines = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { event: { id: string } }).event.id).sort()).toEqual(
      [...Array.from({ length: 6 }, (_, i) => `export-g-${i}`), ...Array.from({ length: 4 }, (_, i) => `export-w-${i}`)].sort(),
    );
    // The same log verified on the broker itself (`grantline verify --from-topics`)
    const onTopics = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, onTopics)).toBe(VERIFY_TOPICS_EXIT.clean);
    expect(onTopics.stdout()).toContain('1 record(s) after the latest checkpoints are not signed yet');

    // A signed checkpoint that the records no longer match: nothing is written.
    await checkpointAll((origin) => (origin.includes(TOPICS.requests) ? createHash('sha256').update('edited').digest() : undefined));
    const refused = bufferedOutput();
    expect(await exportCommand(bus, { from: before, to: after, out: join(dir, 'refused'), key: keyFile }, refused)).toBe(EXPORT_EXIT.refused);
    expect(refused.stderr()).toContain('the log was edited');
    expect(refused.stderr()).toContain(TOPICS.requests);
    const editedOnTopics = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, editedOnTopics)).toBe(VERIFY_TOPICS_EXIT.edited);
    expect(editedOnTopics.stdout()).toMatch(new RegExp(`${TOPICS.requests.replaceAll('.', '\\.')}/\\d+: the first \\d+ records do not match`));
  }, 120_000);
});
