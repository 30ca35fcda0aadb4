import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogCheckpointed, TOPICS, fixtureMeta, lifecycleStory, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { InMemoryMessageBus } from '@grantline/messaging';
import { MerkleLog, createNoteSigner, formatCheckpoint, recordLeafHash, treeOrigin, verifierKey } from '@grantline/transparency';
import { bufferedOutput } from '../output';
import { VERIFY_TOPICS_EXIT, verifyTopicsCommand } from './export-command';

/** `grantline verify --from-topics`: the log on the broker now, against the audit's signed checkpoints. */
describe('grantline verify --from-topics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-topics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'audit.vkey');
  writeFileSync(keyFile, `${verifierKey('grantline-audit', publicKey)}\n`);

  interface Tree {
    readonly origin: string;
    readonly topic: string;
    readonly partition: number;
    readonly log: MerkleLog;
  }

  /** A log of 20 requests' stories, and each partition's tree as an independent reader computes it. */
  const logWithTrees = async (): Promise<{ bus: InMemoryMessageBus; trees: Tree[] }> => {
    const bus = new InMemoryMessageBus({ registry });
    bus.append(...Array.from({ length: 20 }, (_, index) => lifecycleStory(index)).flat());
    const { clusterId } = await bus.logIdentity();
    const trees = new Map<string, Tree>();
    await bus.replayRaw({
      topics: Object.values(TOPICS).filter((topic) => topic !== TOPICS.audit),
      batchHandler: async (records) => {
        for (const record of records) {
          const key = `${record.topic}/${record.partition}`;
          const tree = trees.get(key) ?? {
            origin: treeOrigin({ clusterId, topic: record.topic, partition: record.partition }),
            ...record,
            log: new MerkleLog(),
          };
          trees.set(key, tree);
          tree.log.append(recordLeafHash(record));
        }
      },
    });
    return { bus, trees: [...trees.values()] };
  };

  const checkpointOf = (tree: Tree, size: number, root: Buffer, key: KeyObject = privateKey): Envelope => {
    const note = createNoteSigner('grantline-audit', key).sign(formatCheckpoint({ origin: tree.origin, size, rootHash: root }));
    return registry.encode(
      AuditLogCheckpointed,
      {
        origin: tree.origin,
        topic: tree.topic,
        partition: tree.partition,
        treeSize: size,
        rootHash: root.toString('base64'),
        lastOffset: '0',
        note,
        keyName: 'grantline-audit',
        keyId: createNoteSigner('grantline-audit', key).keyId.toString('hex'),
        signedAt: '2026-12-03T10:00:00.000Z',
      },
      fixtureMeta({ id: `ckpt-${tree.origin}-${size}-${root.toString('hex').slice(0, 8)}`, subject: tree.origin }),
    );
  };

  it('given checkpoints that match the log, then it is clean and says what it checked', async () => {
    const { bus, trees } = await logWithTrees();
    bus.append(...trees.flatMap((tree) => [checkpointOf(tree, 1, tree.log.root(1)), checkpointOf(tree, tree.log.size, tree.log.root())]));
    const io = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, io)).toBe(VERIFY_TOPICS_EXIT.clean);
    expect(io.stdout()).toContain(`clean: 120 records in ${trees.length} trees match ${trees.length * 2} checkpoints signed by grantline-audit`);
  });

  it('given a signed checkpoint the log no longer matches, then it names the tree and the leaves the first bad record lies in', async () => {
    const { bus, trees } = await logWithTrees();
    const edited = trees.find((tree) => tree.log.size >= 4)!;
    bus.append(...trees.map((tree) => checkpointOf(tree, 2, tree.log.root(2))));
    // What the audit would have signed had the third and fourth records been different then
    bus.append(checkpointOf(edited, 4, Buffer.alloc(32, 7)));
    const io = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, io)).toBe(VERIFY_TOPICS_EXIT.edited);
    expect(io.stdout()).toContain(
      `${edited.origin}: the first 4 records do not match the checkpoint signed at 2026-12-03T10:00:00.000Z (the first bad record is a leaf in [2, 4))`,
    );
  });

  it('given a checkpoint longer than its tree (the log was truncated), then it is an edit', async () => {
    const { bus, trees } = await logWithTrees();
    const tree = trees[0]!;
    bus.append(checkpointOf(tree, tree.log.size + 3, Buffer.alloc(32, 1)));
    const io = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, io)).toBe(VERIFY_TOPICS_EXIT.edited);
    expect(io.stdout()).toContain(
      `${tree.origin}: the log holds ${tree.log.size} records, a checkpoint signed at 2026-12-03T10:00:00.000Z covered ${tree.log.size + 3}`,
    );
  });

  it('given a wrong checkpoint signed by another key, then it is ignored (and said), not trusted', async () => {
    const { bus, trees } = await logWithTrees();
    const tree = trees[0]!;
    bus.append(checkpointOf(tree, tree.log.size, tree.log.root()), checkpointOf(tree, 1, Buffer.alloc(32, 9), generateKeyPairSync('ed25519').privateKey));
    const io = bufferedOutput();
    expect(await verifyTopicsCommand(bus, { key: keyFile }, io)).toBe(VERIFY_TOPICS_EXIT.clean);
    expect(io.stderr()).toContain('1 checkpoint(s) not signed by grantline-audit ignored');
  });
});
