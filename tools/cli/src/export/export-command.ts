import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditLogCheckpointed, TOPICS } from '@grantline/contracts';
import type { LogCheckpointedData } from '@grantline/contracts';
import type { MessageBus, RawLogRecord } from '@grantline/messaging';
import { LogTrees, openSignedNote, parseCheckpoint, parseVerifierKey, treeTopics, verifierKey } from '@grantline/transparency';
import type { BundleManifest, MerkleLog } from '@grantline/transparency';
import { writeBundle } from '../evidence-bundle/bundle-files';
import type { BundleTreeSource } from '../evidence-bundle/bundle-files';
import type { Output } from '../output';
import type { Progress } from '../progress';

export const EXPORT_EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export interface ExportOptions {
  readonly from: string;
  readonly to: string;
  readonly out: string;
  /** The checkpoint signer's public key: a C2SP vkey file, or a PEM (SPKI public key, or the private key itself). */
  readonly key: string;
  readonly keyName?: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** What is wrong with the command line, or undefined. */
export function exportUsageError(options: Partial<ExportOptions>): string | undefined {
  for (const field of ['from', 'to'] as const) {
    const value = options[field];
    if (value === undefined || !ISO.test(value) || Number.isNaN(Date.parse(value)))
      return `--${field}: an ISO-8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z`;
  }
  if (Date.parse(options.from!) > Date.parse(options.to!)) return '--from: must not be after --to';
  if (options.out === undefined || options.out === '') return '--out: the directory to write the bundle into';
  if (options.key === undefined || options.key === '') return '--key: the verifier key (vkey file, or PEM of the public key)';
  return undefined;
}

/** The verifier's public key and note name from a vkey file or a PEM. */
export function readVerifierKey(file: string, keyName: string | undefined): { keyName: string; publicKey: KeyObject } {
  const text = readFileSync(file, 'utf8').trim();
  if (text.startsWith('-----BEGIN')) {
    const publicKey = createPublicKey(text);
    if (publicKey.asymmetricKeyType !== 'ed25519')
      throw new Error(`--key ${file}: a ${String(publicKey.asymmetricKeyType)} key; checkpoints are signed with Ed25519`);
    return { keyName: keyName ?? 'grantline-audit', publicKey };
  }
  const verifier = parseVerifierKey(text);
  if (keyName !== undefined && keyName !== verifier.name) throw new Error(`--key-name ${keyName}: the vkey names ${verifier.name}`);
  return { keyName: verifier.name, publicKey: verifier.publicKey };
}

/** A tree recomputed from leaf 0, with the records kept for a bundle. */
interface ExportTree {
  readonly origin: string;
  readonly log: MerkleLog;
  /** The records of the period (contiguous leaves from firstIndex). */
  readonly records: RawLogRecord[];
  firstIndex: number | undefined;
  lastIndex: number | undefined;
}

interface SignedCheckpoint {
  readonly size: number;
  readonly rootHash: Buffer;
  readonly note: string;
  readonly signedAt: string;
}

/** Every lifecycle tree recomputed from leaf 0, and the checkpoints of them signed by the given key. */
interface SignedLog {
  readonly trees: Map<string, ExportTree>;
  readonly checkpoints: Map<string, SignedCheckpoint[]>;
  /** Checkpoint events not signed by the key (ignored). */
  readonly foreign: number;
  readonly read: number;
}

/**
 * Reads the audit's checkpoints signed by `vkey` (the note is authoritative) and every record of every lifecycle
 * topic partition (every catalogue topic but `iga.audit.v1`, plus the connector topics) as raw bytes, entering each
 * into its partition's tree from leaf 0. `keep` says whether a record is kept (with those after it) for a bundle.
 */
async function readSignedLog(bus: MessageBus, vkey: string, keep: (record: RawLogRecord) => boolean, progress?: Progress): Promise<SignedLog> {
  const identity = await bus.logIdentity();
  const topics = treeTopics(await bus.listTopics());

  const checkpoints = new Map<string, SignedCheckpoint[]>();
  let foreign = 0;
  await bus.replay({
    topics: [TOPICS.audit],
    handler: async (event) => {
      if (event.type !== AuditLogCheckpointed.type) return;
      const data = event.data as LogCheckpointedData;
      try {
        const body = parseCheckpoint(openSignedNote(data.note, vkey).body);
        const list = checkpoints.get(body.origin) ?? [];
        // Two signed roots for one size are both checked against the log (one of them cannot match it).
        if (!list.some((known) => known.size === body.size && known.rootHash.equals(body.rootHash))) {
          list.push({ size: body.size, rootHash: body.rootHash, note: data.note, signedAt: data.signedAt });
        }
        checkpoints.set(body.origin, list);
      } catch {
        foreign += 1;
      }
    },
  });

  // The trees as the audit builds them (one per partition, from leaf 0); the period's records kept beside them.
  const logTrees = new LogTrees(identity);
  const trees = new Map<string, ExportTree>();
  let read = 0;
  await bus.replayRaw({
    topics,
    batchHandler: async (records) => {
      const entered = logTrees.append(records);
      records.forEach((record, position) => {
        const { tree: logTree, index } = entered[position]!;
        let tree = trees.get(logTree.origin);
        if (tree === undefined) {
          tree = { origin: logTree.origin, log: logTree.log, records: [], firstIndex: undefined, lastIndex: undefined };
          trees.set(logTree.origin, tree);
        }
        if (keep(record)) {
          tree.firstIndex ??= index;
          tree.lastIndex = index;
        }
        // Kept from the first record of the period on (leaves must be contiguous; a late timestamp inside is kept too).
        if (tree.firstIndex !== undefined) tree.records.push(record);
      });
      read += records.length;
      progress?.update(read, read);
    },
  });
  progress?.stop();
  for (const list of checkpoints.values()) list.sort((a, b) => a.size - b.size);
  return { trees, checkpoints, foreign, read };
}

/** What does not match: a signed checkpoint larger than its tree, or with another root at its size. */
function editsOf(tree: ExportTree, signed: readonly SignedCheckpoint[]): string[] {
  const edits: string[] = [];
  let good = 0;
  for (const checkpoint of signed) {
    if (checkpoint.size > tree.log.size)
      edits.push(`${tree.origin}: the log holds ${tree.log.size} records, a checkpoint signed at ${checkpoint.signedAt} covered ${checkpoint.size}`);
    else if (!tree.log.root(checkpoint.size).equals(checkpoint.rootHash))
      edits.push(
        `${tree.origin}: the first ${checkpoint.size} records do not match the checkpoint signed at ${checkpoint.signedAt} (the first bad record is a leaf in [${good}, ${checkpoint.size}))`,
      );
    else good = checkpoint.size;
  }
  return edits;
}

/**
 * `grantline export`: an evidence bundle of a period, from the topics themselves. Every lifecycle topic partition
 * (every catalogue topic but `iga.audit.v1`, plus the connector topics) is read as raw records and its tree recomputed
 * from leaf 0 (proofs need the whole tree); the records whose log timestamp falls in the period are written with
 * inclusion proofs against the tree's latest checkpoint, with the checkpoints signed in the period and that latest one
 * (from `iga.audit.v1`, signed by the given key). Fails closed: a tree whose recomputed root differs from a signed
 * checkpoint is reported and nothing is written. Records after a tree's latest checkpoint are not signed yet and
 * are left out (said on stderr).
 */
export async function exportCommand(bus: MessageBus, options: ExportOptions, io: Output, progress?: Progress): Promise<number> {
  const from = Date.parse(options.from);
  const to = Date.parse(options.to);
  const { keyName, publicKey } = readVerifierKey(options.key, options.keyName);
  const vkey = verifierKey(keyName, publicKey);
  const identity = await bus.logIdentity();
  const { trees, checkpoints, foreign, read } = await readSignedLog(
    bus,
    vkey,
    (record) => {
      const at = Date.parse(record.timestamp);
      return at >= from && at <= to;
    },
    progress,
  );
  if (foreign > 0) io.err(`grantline export: ${foreign} checkpoint(s) not signed by ${keyName} ignored\n`);

  const sources: BundleTreeSource[] = [];
  const edited: string[] = [];
  let unsigned = 0;
  for (const tree of [...trees.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1))) {
    const signed = checkpoints.get(tree.origin) ?? [];
    edited.push(...editsOf(tree, signed));
    if (tree.firstIndex === undefined || tree.lastIndex === undefined) continue;
    const latest = signed[signed.length - 1];
    const lastCovered = Math.min(tree.lastIndex, (latest?.size ?? 0) - 1);
    unsigned += tree.lastIndex - Math.max(lastCovered, tree.firstIndex - 1);
    if (latest === undefined || lastCovered < tree.firstIndex) continue;
    const inPeriod = signed.filter((checkpoint, position) => {
      const at = Date.parse(checkpoint.signedAt);
      const firstOfSize = signed.findIndex((other) => other.size === checkpoint.size) === position;
      return firstOfSize && (checkpoint === latest || (at >= from && at <= to));
    });
    sources.push({
      origin: tree.origin,
      firstIndex: tree.firstIndex,
      records: tree.records.slice(0, lastCovered - tree.firstIndex + 1),
      checkpoints: inPeriod.map((checkpoint) => checkpoint.note),
      proofs: tree.log,
    });
  }
  if (edited.length > 0) {
    io.err(`grantline export: the log was edited; no bundle written:\n${edited.map((line) => `  ${line}`).join('\n')}\n`);
    return EXPORT_EXIT.refused;
  }
  if (unsigned > 0) io.err(`grantline export: ${unsigned} record(s) of the period are not covered by a checkpoint yet and were left out\n`);
  const manifest: BundleManifest = await writeBundle(options.out, {
    clusterId: identity.clusterId,
    ...(identity.namespace === undefined ? {} : { namespace: identity.namespace }),
    createdAt: new Date().toISOString(),
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    keyName,
    publicKey,
    trees: sources,
  });
  const lines = manifest.trees.reduce((sum, tree) => sum + tree.lines, 0);
  io.out(
    `wrote ${options.out}: ${lines} events of ${manifest.trees.length} trees, ${sources.reduce((sum, source) => sum + source.checkpoints.length, 0)} checkpoints (read ${read} records)\n`,
  );
  return EXPORT_EXIT.ok;
}

export const VERIFY_TOPICS_EXIT = { clean: 0, edited: 1, usage: 2 } as const;

/**
 * `grantline verify --from-topics`: the log as it is on the broker now, against the audit's signed checkpoints: every
 * lifecycle tree recomputed from leaf 0, each checkpoint signed by the key checked (its tree at least as long, the same
 * root at its size; consecutive checkpoints that both match are consistent by construction). Names each edited tree
 * and the range of leaves its first bad record lies in; records after a tree's latest checkpoint are not signed yet.
 */
export async function verifyTopicsCommand(bus: MessageBus, options: { key: string; keyName?: string }, io: Output, progress?: Progress): Promise<number> {
  const { keyName, publicKey } = readVerifierKey(options.key, options.keyName);
  const { trees, checkpoints, foreign, read } = await readSignedLog(bus, verifierKey(keyName, publicKey), () => false, progress);
  if (foreign > 0) io.err(`grantline verify: ${foreign} checkpoint(s) not signed by ${keyName} ignored\n`);
  const edited: string[] = [];
  let signedCount = 0;
  let unsigned = 0;
  const origins = new Set([...trees.values()].map((tree) => tree.origin));
  for (const tree of [...trees.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1))) {
    const signed = checkpoints.get(tree.origin) ?? [];
    signedCount += signed.length;
    edited.push(...editsOf(tree, signed));
    unsigned += Math.max(0, tree.log.size - (signed[signed.length - 1]?.size ?? 0));
  }
  // A tree signed once and now gone entirely: its whole partition was deleted.
  for (const [origin, signed] of checkpoints) {
    if (!origins.has(origin))
      edited.push(`${origin}: no record left; a checkpoint signed at ${signed[0]?.signedAt ?? '?'} covered ${signed[signed.length - 1]?.size ?? 0}`);
  }
  if (edited.length > 0) {
    io.out(`the log was edited (${edited.length} finding(s)):\n${edited.map((line) => `  ${line}`).join('\n')}\n`);
    return VERIFY_TOPICS_EXIT.edited;
  }
  io.out(
    `clean: ${read} records in ${trees.size} trees match ${signedCount} checkpoints signed by ${keyName}` +
      (unsigned > 0 ? `; ${unsigned} record(s) after the latest checkpoints are not signed yet` : '') +
      '\n',
  );
  return VERIFY_TOPICS_EXIT.clean;
}
