import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditLogCheckpointed, TOPICS, connectorIdOfTopic } from '@grantline/contracts';
import type { LogCheckpointedData } from '@grantline/contracts';
import type { MessageBus, RawLogRecord } from '@grantline/messaging';
import { MerkleLog, openSignedNote, parseCheckpoint, parseVerifierKey, recordLeafHash, treeOrigin, verifierKey } from '@grantline/transparency';
import type { BundleManifest } from '@grantline/transparency';
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

interface ExportTree {
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
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
  const topics = [
    ...new Set([
      ...Object.values(TOPICS).filter((topic) => topic !== TOPICS.audit),
      ...(await bus.listTopics()).filter((topic) => connectorIdOfTopic(topic) !== undefined),
    ]),
  ].sort();

  // The signed checkpoints, per tree: the note is authoritative, and only this key's count.
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
  if (foreign > 0) io.err(`grantline export: ${foreign} checkpoint(s) not signed by ${keyName} ignored\n`);

  // Every tree recomputed from leaf 0; the period's records kept.
  const trees = new Map<string, ExportTree>();
  let read = 0;
  await bus.replayRaw({
    topics,
    batchHandler: async (records) => {
      for (const record of records) {
        const key = `${record.topic}\u0000${record.partition}`;
        let tree = trees.get(key);
        if (tree === undefined) {
          const origin = treeOrigin({
            clusterId: identity.clusterId,
            ...(identity.namespace ? { namespace: identity.namespace } : {}),
            topic: record.topic,
            partition: record.partition,
          });
          tree = { origin, topic: record.topic, partition: record.partition, log: new MerkleLog(), records: [], firstIndex: undefined, lastIndex: undefined };
          trees.set(key, tree);
        }
        const index = tree.log.append(recordLeafHash(record));
        const at = Date.parse(record.timestamp);
        if (at >= from && at <= to) {
          tree.firstIndex ??= index;
          tree.lastIndex = index;
        }
        // Kept from the first record of the period on (leaves must be contiguous; a late timestamp inside is kept too).
        if (tree.firstIndex !== undefined) tree.records.push(record);
        read += 1;
      }
      progress?.update(read, read);
    },
  });
  progress?.stop();

  const sources: BundleTreeSource[] = [];
  const edited: string[] = [];
  let unsigned = 0;
  for (const tree of [...trees.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1))) {
    const signed = (checkpoints.get(tree.origin) ?? []).sort((a, b) => a.size - b.size);
    for (const checkpoint of signed) {
      if (checkpoint.size > tree.log.size)
        edited.push(`${tree.origin}: the log holds ${tree.log.size} records, a checkpoint signed at ${checkpoint.signedAt} covered ${checkpoint.size}`);
      else if (!tree.log.root(checkpoint.size).equals(checkpoint.rootHash))
        edited.push(`${tree.origin}: the first ${checkpoint.size} records do not match the checkpoint signed at ${checkpoint.signedAt}`);
    }
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
