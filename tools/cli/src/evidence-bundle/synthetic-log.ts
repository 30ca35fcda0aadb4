import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { lifecycleStory, registry, toCloudEvent } from '@grantline/contracts';
import { MerkleLog, createNoteSigner, formatCheckpoint, recordLeafHash, treeOrigin, verifierKey } from '@grantline/transparency';
import type { LogRecordBytes } from '@grantline/transparency';
import type { BundleTreeSource, WriteBundleInput } from './bundle-files';

// A realistic signed log for the tamper spec and `npm run bench:verify`: request lifecycles as the services write
// them (CloudEvents from the contracts' fixtures, keyed by request id, the messaging layer's headers), spread over
// several topics and partitions, with the offset gaps transaction markers leave, and signed checkpoints at intervals
// and at the end. Deterministic for a seed (the signing key too), so a failure reproduces.

/** A small, seeded PRNG (mulberry32): reproducible mutations and layouts. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// PKCS#8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A deterministic Ed25519 key pair from a 32-byte seed. */
export function ed25519KeyPair(seed: Buffer): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export interface SyntheticLogOptions {
  /** Records in all (rounded up to whole lifecycles of 6). */
  readonly events: number;
  readonly seed?: number;
  /** A checkpoint every N records of a tree, and one at each tree's end. */
  readonly checkpointEvery?: number;
  readonly partitions?: number;
  readonly clusterId?: string;
  readonly namespace?: string;
}

export interface SyntheticTree {
  readonly origin: string;
  readonly records: LogRecordBytes[];
  readonly log: MerkleLog;
  readonly checkpoints: string[];
}

export interface SyntheticLog {
  readonly keyName: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly vkey: string;
  readonly clusterId: string;
  readonly namespace?: string;
  readonly trees: readonly SyntheticTree[];
  readonly events: number;
}

const TRANSACTIONAL_TOPICS = new Set(['iga.decisions.v1', 'iga.approvals.v1', 'iga.grants.v1']);

function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % partitions;
}

/** One request's story (the contracts' `lifecycleStory`), as the records the log would hold. */
function lifecycle(index: number): { topic: string; key: string; id: string; type: string; value: string }[] {
  return lifecycleStory(index).map((envelope) => ({
    topic: registry.definitionOf(envelope.type).topic,
    key: envelope.subject,
    id: envelope.id,
    type: envelope.type,
    value: JSON.stringify(toCloudEvent(envelope)),
  }));
}

export function buildSyntheticLog(options: SyntheticLogOptions): SyntheticLog {
  const random = seededRandom(options.seed ?? 1);
  const partitions = options.partitions ?? 3;
  const every = options.checkpointEvery ?? 200;
  const clusterId = options.clusterId ?? 'Bench-Cluster_01';
  const keyName = 'audit.grantline.example/log';
  const { privateKey, publicKey } = ed25519KeyPair(Buffer.alloc(32, (options.seed ?? 1) & 0xff));
  const signer = createNoteSigner(keyName, privateKey);
  const trees = new Map<string, SyntheticTree & { nextOffset: bigint }>();
  const treeOf = (topic: string, partition: number) => {
    const origin = treeOrigin({ clusterId, ...(options.namespace === undefined ? {} : { namespace: options.namespace }), topic, partition });
    let tree = trees.get(origin);
    if (tree === undefined) {
      tree = { origin, records: [], log: new MerkleLog(), checkpoints: [], nextOffset: 0n };
      trees.set(origin, tree);
    }
    return tree;
  };
  const sign = (tree: SyntheticTree) =>
    tree.checkpoints.push(signer.sign(formatCheckpoint({ origin: tree.origin, size: tree.log.size, rootHash: tree.log.root() })));
  let events = 0;
  for (let request = 0; events < options.events; request += 1) {
    for (const event of lifecycle(request)) {
      const partition = partitionOf(event.key, partitions);
      const tree = treeOf(event.topic, partition);
      const record: LogRecordBytes = {
        topic: event.topic,
        partition,
        offset: String(tree.nextOffset),
        key: Buffer.from(event.key),
        value: Buffer.from(event.value),
        headers: [{ key: 'content-type', value: Buffer.from('application/cloudevents+json; charset=utf-8') }],
      };
      // A transactional producer's commit marker takes the next offset and is no record.
      tree.nextOffset += TRANSACTIONAL_TOPICS.has(event.topic) && random() < 0.5 ? 2n : 1n;
      tree.records.push(record);
      tree.log.append(recordLeafHash(record));
      if (tree.log.size % every === 0) sign(tree);
      events += 1;
    }
  }
  for (const tree of trees.values()) if (tree.log.size % every !== 0) sign(tree);
  const ordered = [...trees.values()]
    .sort((a, b) => (a.origin < b.origin ? -1 : 1))
    .map(({ origin, records, log, checkpoints }) => ({ origin, records, log, checkpoints }));
  return {
    keyName,
    privateKey,
    publicKey,
    vkey: verifierKey(keyName, publicKey),
    clusterId,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    trees: ordered,
    events,
  };
}

/** The input of writeBundle for a whole synthetic log. */
export function syntheticBundleInput(log: SyntheticLog): WriteBundleInput {
  const trees: BundleTreeSource[] = log.trees.map((tree) => ({
    origin: tree.origin,
    firstIndex: 0,
    records: tree.records,
    checkpoints: tree.checkpoints,
    proofs: tree.log,
  }));
  return {
    clusterId: log.clusterId,
    ...(log.namespace === undefined ? {} : { namespace: log.namespace }),
    createdAt: '2025-03-02T00:00:00.000Z',
    period: { from: null, to: '2025-03-02T00:00:00.000Z' },
    keyName: log.keyName,
    publicKey: log.publicKey,
    trees,
  };
}
