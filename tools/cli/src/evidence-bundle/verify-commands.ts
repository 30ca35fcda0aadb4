import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUNDLE_FILES,
  BundleVerifier,
  eventMatchesValue,
  parseBundleCheckpointLine,
  parseBundleEventLine,
  parseCheckpoint,
  openSignedNote,
  parseVerifierKey,
  recordLeafHash,
  verifierKey,
  verifyConsistency,
  verifyInclusion,
} from '@grantline/transparency';
import type { BadPosition, BundleManifest, BundleVerifyReport, VerificationCache } from '@grantline/transparency';
import type { Output } from '../output';
import type { Progress } from '../progress';
import { forEachLine, readManifest } from './bundle-files';

/** Exit codes: 0 the bundle verifies, 1 it does not (tampered, or the event is not proven), 2 wrong usage or no bundle. */
export const VERIFY_EXIT = { ok: 0, tampered: 1, usage: 2 } as const;

class UsageError extends Error {}

interface ResolvedKey {
  readonly vkey: string;
  /** Taken from the bundle itself: it proves internal consistency only. */
  readonly fromBundle: boolean;
}

const SELF_KEY_WARNING =
  'warning: the verifier key was taken from the bundle itself: this proves the bundle is internally consistent, not who signed it. ' +
  "Pin the log signer's key with --key <file> (a C2SP .vkey or an Ed25519 public key PEM).\n";

/** The key to verify with: --key (a vkey, or a PEM named as the manifest says), else the bundle's own verifier.vkey. */
function resolveKey(dir: string, manifest: BundleManifest, keyFile: string | undefined): ResolvedKey {
  if (keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--key ${keyFile}: ${(error as Error).message}`);
    }
    try {
      if (text.includes('-----BEGIN PUBLIC KEY-----')) return { vkey: verifierKey(manifest.verifierKeyName, createPublicKey(text)), fromBundle: false };
      parseVerifierKey(text.trim());
      return { vkey: text.trim(), fromBundle: false };
    } catch (error) {
      throw new UsageError(`--key ${keyFile}: ${(error as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(join(dir, BUNDLE_FILES.verifierKey), 'utf8').trim();
    parseVerifierKey(text);
  } catch (error) {
    throw new UsageError(`${join(dir, BUNDLE_FILES.verifierKey)}: ${(error as Error).message}`);
  }
  return { vkey: text, fromBundle: true };
}

export interface VerifyBundleResult {
  readonly report: BundleVerifyReport;
  readonly manifest: BundleManifest;
  readonly key: ResolvedKey;
  /** Files whose size or SHA-256 differ from the manifest's, and other problems outside the lines. */
  readonly fileProblems: readonly string[];
}

/** Verifies a bundle directory. Throws a UsageError-like Error when it is no readable bundle. */
export function verifyBundleDir(
  dir: string,
  options: { readonly keyFile?: string; readonly cache?: VerificationCache; readonly progress?: Progress } = {},
): VerifyBundleResult {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a directory`);
  const manifest = readManifest(dir);
  const key = resolveKey(dir, manifest, options.keyFile);
  const verifier = new BundleVerifier({
    verifierKey: key.vkey,
    trees: manifest.trees.map((tree) => ({ origin: tree.origin, firstIndex: tree.firstIndex, count: tree.lines })),
    ...(options.cache === undefined || options.cache.verifierKey !== key.vkey ? {} : { cache: options.cache }),
  });
  const digests = new Map<string, { bytes: number; sha256: string }>();
  const read = (name: string, onLine: (line: string) => void, onProgress?: () => void) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new UsageError(`${path}: not found`);
    digests.set(name, forEachLine(path, onLine, onProgress));
  };
  read(BUNDLE_FILES.checkpoints, (line) => verifier.addCheckpointLine(line));
  const total = manifest.trees.reduce((sum, tree) => sum + tree.lines, 0);
  let lines = 0;
  try {
    read(BUNDLE_FILES.events, (line) => {
      verifier.addEventLine(line);
      lines += 1;
      if (lines % 2_000 === 0) options.progress?.update(Math.min(lines, total), Math.max(lines, total));
    });
    options.progress?.update(lines, Math.max(lines, total));
  } finally {
    options.progress?.stop();
  }
  const report = verifier.finish();
  const fileProblems: string[] = [];
  for (const file of manifest.files) {
    let actual = digests.get(file.name);
    if (actual === undefined) {
      const path = join(dir, file.name);
      if (!existsSync(path)) {
        fileProblems.push(`${file.name}: listed in the manifest, not in the bundle`);
        continue;
      }
      const bytes = readFileSync(path);
      actual = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    if (actual.bytes !== file.bytes || actual.sha256 !== file.sha256) fileProblems.push(`${file.name}: its size or SHA-256 differs from the manifest's`);
  }
  // The PEM beside the vkey must be the same key, or a reader pinning one of them would be misled.
  if (key.fromBundle && existsSync(join(dir, BUNDLE_FILES.publicKeyPem))) {
    try {
      const pemKey = verifierKey(manifest.verifierKeyName, createPublicKey(readFileSync(join(dir, BUNDLE_FILES.publicKeyPem), 'utf8')));
      if (pemKey !== key.vkey) fileProblems.push(`${BUNDLE_FILES.publicKeyPem}: another key than ${BUNDLE_FILES.verifierKey}`);
    } catch (error) {
      fileProblems.push(`${BUNDLE_FILES.publicKeyPem}: ${(error as Error).message}`);
    }
  }
  return { report, manifest, key, fileProblems };
}

function describeBad(bad: BadPosition): string {
  const where =
    bad.file === 'events.jsonl' ? `leaf ${bad.index}${bad.offset === undefined ? '' : ` (offset ${bad.offset})`}` : `checkpoint of size ${bad.index}`;
  return `${bad.file} line ${bad.line}: tree ${bad.origin || '(unknown)'}, ${where}: ${bad.kind}: ${bad.reason}`;
}

/** `grantline verify --bundle <dir> [--key <file>]`. */
export function verifyCommand(
  options: { readonly bundle: string; readonly key?: string },
  io: Output,
  extra: { readonly progress?: Progress; readonly cache?: VerificationCache } = {},
): number {
  let result: VerifyBundleResult;
  try {
    result = verifyBundleDir(options.bundle, { ...(options.key === undefined ? {} : { keyFile: options.key }), ...extra });
  } catch (error) {
    io.err(`grantline verify: ${(error as Error).message}\n`);
    return VERIFY_EXIT.usage;
  }
  const { report, key, fileProblems, manifest } = result;
  if (key.fromBundle) io.err(SELF_KEY_WARNING);
  const out: string[] = [
    `bundle   ${options.bundle} (${manifest.format}, created ${manifest.createdAt})`,
    `key      ${key.vkey.split('+').slice(0, 2).join('+')}${key.fromBundle ? ' (from the bundle)' : ' (pinned)'}`,
  ];
  out.push(`checked  ${report.checkpoints} checkpoint lines, ${report.events} event lines, ${report.trees.length} trees`);
  for (const tree of report.trees) {
    const span = tree.records === 0 ? 'no records' : `leaves ${tree.firstIndex}..${tree.firstIndex + tree.records - 1}`;
    const how = tree.recomputed
      ? `recomputed from leaf 0, root equal to ${tree.rootsMatched} of ${tree.checkpoints} checkpoints`
      : 'window: inclusion proofs only';
    const coverage = tree.complete ? `complete to the last checkpoint (size ${tree.lastCheckpointSize})` : `last checkpoint size ${tree.lastCheckpointSize}`;
    out.push(`  ${tree.origin}  ${span}  ${how}, ${coverage}`);
  }
  if (report.firstBad !== undefined) {
    out.push(`TAMPERED  first bad position: ${describeBad(report.firstBad)}`);
  }
  for (const problem of fileProblems) out.push(`TAMPERED  ${problem}`);
  const ok = report.ok && fileProblems.length === 0;
  if (ok) out.push(`OK  every checkpoint signed and consistent, every record included in its tree, nothing missing`);
  io.out(`${out.join('\n')}\n`);
  return ok ? VERIFY_EXIT.ok : VERIFY_EXIT.tampered;
}

/**
 * `grantline prove --bundle <dir> --event <id> [--checkpoint N]`: the event's record is leaf i of its tree, included
 * in the signed checkpoint of size N (default: the first checkpoint that includes it). The proof: its inclusion proof
 * against the tree's last checkpoint in the bundle, and the consistency proofs from checkpoint N up to that one.
 */
export function proveCommand(
  options: { readonly bundle: string; readonly event: string; readonly checkpoint?: string; readonly key?: string },
  io: Output,
): number {
  let manifest: BundleManifest;
  let key: ResolvedKey;
  let wanted: number | undefined;
  try {
    if (options.checkpoint !== undefined) {
      if (!/^[1-9]\d*$/.test(options.checkpoint)) throw new UsageError(`--checkpoint: '${options.checkpoint}' is not a tree size (a positive whole number)`);
      wanted = Number(options.checkpoint);
    }
    manifest = readManifest(options.bundle);
    key = resolveKey(options.bundle, manifest, options.key);
  } catch (error) {
    io.err(`grantline prove: ${(error as Error).message}\n`);
    return VERIFY_EXIT.usage;
  }
  if (key.fromBundle) io.err(SELF_KEY_WARNING);
  const fail = (message: string): number => {
    io.err(`grantline prove: ${message}\n`);
    return VERIFY_EXIT.tampered;
  };
  // The event id is a JSON string in the line: a cheap text test first, a real parse of the candidates.
  const needle = JSON.stringify(options.event);
  const found: { line: number; text: string }[] = [];
  let lineNumber = 0;
  try {
    forEachLine(join(options.bundle, BUNDLE_FILES.events), (text) => {
      lineNumber += 1;
      if (!text.includes(needle)) return;
      const event = (JSON.parse(text) as { event?: { id?: unknown } | null }).event;
      if (typeof event === 'object' && event !== null && event.id === options.event) found.push({ line: lineNumber, text });
    });
  } catch (error) {
    return fail(`events.jsonl: ${(error as Error).message}`);
  }
  if (found.length === 0) return fail(`no event ${options.event} in ${options.bundle}`);
  if (found.length > 1)
    return fail(
      `event ${options.event} is in ${found.length} records (lines ${found.map((entry) => entry.line).join(', ')}); a CloudEvent id is unique per source`,
    );
  const { line, text } = found[0]!;
  let parsed: ReturnType<typeof parseBundleEventLine>;
  try {
    parsed = parseBundleEventLine(text);
  } catch (error) {
    return fail(`events.jsonl line ${line}: ${(error as Error).message}`);
  }
  if (!eventMatchesValue(parsed.event, parsed.record.value)) return fail(`events.jsonl line ${line}: \`event\` is not the JSON of the record value`);
  // The tree's checkpoints, each signed, each consistent with the one before.
  const checkpoints: { size: number; root: Buffer }[] = [];
  try {
    forEachLine(join(options.bundle, BUNDLE_FILES.checkpoints), (checkpointText) => {
      const checkpointLine = parseBundleCheckpointLine(checkpointText);
      if (checkpointLine.tree !== parsed.tree) return;
      const checkpoint = parseCheckpoint(openSignedNote(checkpointLine.note, key.vkey).body);
      if (checkpoint.origin !== parsed.tree || checkpoint.size !== checkpointLine.size)
        throw new Error(`a checkpoint line says ${checkpointLine.tree} at ${checkpointLine.size}, its note ${checkpoint.origin} at ${checkpoint.size}`);
      const previous = checkpoints[checkpoints.length - 1];
      if (previous !== undefined) {
        const proof = checkpointLine.consistency;
        if (
          proof === null ||
          proof.fromSize !== previous.size ||
          !verifyConsistency(previous.size, checkpoint.size, previous.root, checkpoint.rootHash, proof.hashes)
        ) {
          throw new Error(`the checkpoints of size ${previous.size} and ${checkpoint.size} are not consistent`);
        }
      }
      checkpoints.push({ size: checkpoint.size, root: checkpoint.rootHash });
    });
  } catch (error) {
    return fail(`checkpoints.jsonl: ${(error as Error).message}`);
  }
  const last = checkpoints[checkpoints.length - 1];
  if (last === undefined) return fail(`no signed checkpoint of tree ${parsed.tree} in the bundle`);
  if (parsed.proof.size !== last.size || !verifyInclusion(recordLeafHash(parsed.record), parsed.index, last.size, parsed.proof.hashes, last.root)) {
    return fail(`events.jsonl line ${line}: the record is not leaf ${parsed.index} of the signed tree of size ${last.size}: it was changed`);
  }
  const including = checkpoints.filter((checkpoint) => checkpoint.size > parsed.index);
  const chosen = wanted === undefined ? including[0] : including.find((checkpoint) => checkpoint.size === wanted);
  if (chosen === undefined) {
    const sizes = including.map((checkpoint) => checkpoint.size).join(', ');
    return fail(`no checkpoint of size ${wanted} of tree ${parsed.tree} includes leaf ${parsed.index} (checkpoints that do: ${sizes})`);
  }
  const event = parsed.event as { type?: unknown } | null;
  const type = typeof event?.type === 'string' ? event.type : 'not a CloudEvent';
  const { record } = parsed;
  io.out(
    `event ${options.event} (${type}, ${record.topic}/${record.partition}/${record.offset}) is leaf ${parsed.index} of tree ${parsed.tree}, ` +
      `included in the checkpoint of size ${chosen.size} signed by ${parseVerifierKey(key.vkey).name}\n` +
      `  proof: inclusion in the checkpoint of size ${last.size}${chosen.size === last.size ? '' : `, which is consistent with the checkpoint of size ${chosen.size}`} (every checkpoint of the tree in the bundle is signed and consistent with the one before)\n`,
  );
  return VERIFY_EXIT.ok;
}
