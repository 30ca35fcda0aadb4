import { createHash } from 'node:crypto';
import type { Hash, KeyObject } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  bundleCheckpointLine,
  bundleEventLine,
  openSignedNote,
  parseCheckpoint,
  parseTreeOrigin,
  parseVerifierKey,
  verifierKey,
} from '@grantline/transparency';
import type { BundleManifest, LogRecordBytes } from '@grantline/transparency';
import { parseManifest } from './manifest.schema';

// The one writer and the one reader of the evidence bundle's files (format: libs/transparency/README.md). The
// line formats and the verifier are the lib's; this module does the file IO.

/** The proofs a tree can give: a MerkleLog of the tree (from leaf 0) does. */
export interface TreeProofs {
  inclusionProof(index: number, size: number): Buffer[];
  consistencyProof(oldSize: number, newSize: number): Buffer[];
}

/** One tree's part of the bundle. */
export interface BundleTreeSource {
  /** treeOrigin({ clusterId, namespace, topic, partition }). */
  readonly origin: string;
  /** The leaf index of the first record given (0 for the whole tree). */
  readonly firstIndex: number;
  /** The records in leaf order, contiguous from firstIndex. */
  readonly records: Iterable<LogRecordBytes> | AsyncIterable<LogRecordBytes>;
  /**
   * The tree's signed checkpoint notes for the period, ascending in size, ending with the latest one: every record
   * given must be below the last one's size (records are proven against it).
   */
  readonly checkpoints: readonly string[];
  readonly proofs: TreeProofs;
}

export interface WriteBundleInput {
  readonly clusterId: string;
  readonly namespace?: string;
  /** ISO-8601. */
  readonly createdAt: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  /** The checkpoint signer's note name and Ed25519 public key (written as verifier.vkey and verifier.pem). */
  readonly keyName: string;
  readonly publicKey: KeyObject;
  /** In the order the bundle lists them. */
  readonly trees: readonly BundleTreeSource[];
}

/** Buffered appends to a file, hashed as written. */
class HashedFile {
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private pending: string[] = [];
  private pendingLength = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  line(text: string): void {
    this.pending.push(text, '\n');
    this.pendingLength += text.length + 1;
    if (this.pendingLength > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(chunk);
    for (let written = 0; written < chunk.length;) written += writeSync(this.fd, chunk, written);
    this.bytes += chunk.length;
  }

  close(): { bytes: number; sha256: string } {
    this.flush();
    closeSync(this.fd);
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/**
 * Writes an evidence bundle into `dir` (created if needed): events.jsonl, checkpoints.jsonl, verifier.vkey,
 * verifier.pem and manifest.json. Fails closed: a checkpoint not signed by the key, of another tree, out of order, or
 * not covering the records, and records not of their tree, are refused (nothing claims more than it can prove).
 */
export async function writeBundle(dir: string, input: WriteBundleInput): Promise<BundleManifest> {
  mkdirSync(dir, { recursive: true });
  const vkey = verifierKey(input.keyName, input.publicKey);
  const verifier = parseVerifierKey(vkey);
  const events = new HashedFile(join(dir, BUNDLE_FILES.events));
  const checkpoints = new HashedFile(join(dir, BUNDLE_FILES.checkpoints));
  const trees: BundleManifest['trees'][number][] = [];
  let eventsFile: { bytes: number; sha256: string };
  let checkpointsFile: { bytes: number; sha256: string };
  try {
    for (const tree of input.trees) {
      const { topic, partition } = parseTreeOrigin(tree.origin);
      const sizes = tree.checkpoints.map((note, position) => {
        const checkpoint = parseCheckpoint(openSignedNote(note, verifier).body);
        if (checkpoint.origin !== tree.origin) throw new Error(`tree ${tree.origin}: checkpoint ${position} is of ${checkpoint.origin}`);
        return checkpoint.size;
      });
      sizes.forEach((size, position) => {
        if (position > 0 && size < sizes[position - 1]!)
          throw new Error(`tree ${tree.origin}: checkpoints must ascend in size (${sizes[position - 1]} then ${size})`);
        const previous = position === 0 ? undefined : sizes[position - 1]!;
        checkpoints.line(
          bundleCheckpointLine({
            tree: tree.origin,
            size,
            note: tree.checkpoints[position]!,
            consistency: previous === undefined ? null : { fromSize: previous, hashes: tree.proofs.consistencyProof(previous, size) },
          }),
        );
      });
      const lastSize = sizes[sizes.length - 1];
      let index = tree.firstIndex;
      for await (const record of tree.records) {
        if (lastSize === undefined || index >= lastSize) throw new Error(`tree ${tree.origin}: leaf ${index} is not covered by a checkpoint in the bundle`);
        if (record.topic !== topic || record.partition !== partition)
          throw new Error(`tree ${tree.origin}: leaf ${index} is a record of ${record.topic}/${record.partition}`);
        events.line(bundleEventLine({ tree: tree.origin, index, record, proof: { size: lastSize, hashes: tree.proofs.inclusionProof(index, lastSize) } }));
        index += 1;
      }
      const lines = index - tree.firstIndex;
      trees.push({
        origin: tree.origin,
        topic,
        partition,
        firstIndex: tree.firstIndex,
        lastIndex: lines === 0 ? null : index - 1,
        lines,
        checkpoints: sizes.length,
        lastCheckpointSize: lastSize ?? 0,
      });
    }
  } finally {
    // Closed whatever happens; a failed bundle has no manifest, so it can never pass for a complete one.
    eventsFile = events.close();
    checkpointsFile = checkpoints.close();
  }
  const pem = input.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  writeFileSync(join(dir, BUNDLE_FILES.verifierKey), `${vkey}\n`);
  writeFileSync(join(dir, BUNDLE_FILES.publicKeyPem), pem);
  const small = (name: string, text: string) => ({ name, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') });
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    createdAt: input.createdAt,
    period: input.period,
    clusterId: input.clusterId,
    namespace: input.namespace === undefined || input.namespace === '' ? null : input.namespace,
    verifierKeyName: input.keyName,
    trees,
    files: [
      { name: BUNDLE_FILES.events, ...eventsFile },
      { name: BUNDLE_FILES.checkpoints, ...checkpointsFile },
      small(BUNDLE_FILES.verifierKey, `${vkey}\n`),
      small(BUNDLE_FILES.publicKeyPem, pem),
    ],
  };
  writeFileSync(join(dir, BUNDLE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads a bundle's manifest; throws an Error naming the problem (missing directory, file or field). */
export function readManifest(dir: string): BundleManifest {
  let text: string;
  try {
    text = readFileSync(join(dir, BUNDLE_FILES.manifest), 'utf8');
  } catch (error) {
    throw new Error(
      `${join(dir, BUNDLE_FILES.manifest)}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (is this an evidence bundle?)' : (error as Error).message}`,
    );
  }
  return parseManifest(text);
}

const CHUNK = 4 << 20;

/**
 * Calls `onLine` for every line of a file (without its newline; a last line without one included), reading in
 * chunks; `onProgress` gets the bytes read. Returns the file's size and SHA-256.
 */
export function forEachLine(
  path: string,
  onLine: (line: string) => void,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): { bytes: number; sha256: string } {
  const fd = openSync(path, 'r');
  const hash = createHash('sha256');
  try {
    const total = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer | undefined;
    let read = 0;
    for (;;) {
      const count = readSync(fd, buffer, 0, CHUNK, null);
      if (count === 0) break;
      read += count;
      const chunk = buffer.subarray(0, count);
      hash.update(chunk);
      let data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
      let start = 0;
      for (let newline = data.indexOf(10, start); newline >= 0; newline = data.indexOf(10, start)) {
        onLine(data.toString('utf8', start, newline));
        start = newline + 1;
      }
      // The unfinished last line is copied: the read buffer is reused.
      data = data.subarray(start);
      carry = data.length === 0 ? undefined : Buffer.from(data);
      onProgress?.(read, total);
    }
    if (carry !== undefined) onLine(carry.toString('utf8'));
    return { bytes: read, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}
