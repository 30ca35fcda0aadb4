import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BundleVerifier,
  MerkleLog,
  VerificationCache,
  openSignedNote,
  parseBundleCheckpointLine,
  parseBundleEventLine,
  parseCheckpoint,
  recordLeafHash,
  verifyConsistency,
  verifyInclusion,
} from '@grantline/transparency';
import type { BadKind, BundleManifest, BundleVerifyReport, TreeExpectation } from '@grantline/transparency';
import { bufferedOutput } from '../output';
import { forEachLine, readManifest, writeBundle } from './bundle-files';
import { buildSyntheticLog, seededRandom, syntheticBundleInput } from './synthetic-log';
import { verifyCommand } from './verify-commands';

// The tamper test of issue 11: an export of a realistic log (>= 10,000 CloudEvents on 4 topics x 3 partitions, with
// transaction-marker offset gaps, checkpoints every 200 records of a tree and at the end) is written and read back
// once; >= 10,000 seeded random mutations, each applied alone to the parsed lines, must each be detected, and the
// verifier must name exactly the first bad position. The oracle is independent of the verifier: the first bad
// position of a one-mutation bundle is the first line where it differs from the honest one (every honest line is
// the only valid record at its position), or one past the end when it is a strict prefix.

const SEED = 0x1107;
const EVENTS = 10_000;
const CLI_EVENTS = 1_200;
const CLI_MUTATIONS = 240;

interface Mutation {
  readonly name: string;
  readonly lines: readonly string[];
  readonly kinds: readonly BadKind[];
}

interface Bundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly vkey: string;
  readonly eventLines: string[];
  readonly checkpointLines: string[];
  readonly expectations: TreeExpectation[];
}

async function writeAndRead(dir: string, events: number, seed: number): Promise<Bundle> {
  const log = buildSyntheticLog({ events, seed, checkpointEvery: 200 });
  await writeBundle(dir, syntheticBundleInput(log));
  const eventLines: string[] = [];
  const checkpointLines: string[] = [];
  forEachLine(join(dir, 'events.jsonl'), (line) => eventLines.push(line));
  forEachLine(join(dir, 'checkpoints.jsonl'), (line) => checkpointLines.push(line));
  const manifest = readManifest(dir);
  return {
    dir,
    manifest,
    vkey: log.vkey,
    eventLines,
    checkpointLines,
    expectations: manifest.trees.map((tree) => ({ origin: tree.origin, firstIndex: tree.firstIndex, count: tree.lines })),
  };
}

function verifyLines(bundle: Bundle, eventLines: readonly string[], cache?: VerificationCache): BundleVerifyReport {
  const verifier = new BundleVerifier({ verifierKey: bundle.vkey, trees: bundle.expectations, ...(cache === undefined ? {} : { cache }) });
  for (const line of bundle.checkpointLines) verifier.addCheckpointLine(line);
  for (const line of eventLines) {
    verifier.addEventLine(line);
    if (verifier.failed) break;
  }
  return verifier.finish();
}

/** The oracle: where a one-mutation bundle first differs from the honest one, and which leaf is due there. */
function expectedFirstBad(bundle: Bundle, mutated: readonly string[]): { line: number; origin: string; index: number } {
  const honest = bundle.eventLines;
  let position = 0;
  while (position < honest.length && position < mutated.length && honest[position] === mutated[position]) position += 1;
  if (position === honest.length && position === mutated.length) throw new Error('the mutation changed nothing');
  if (position < honest.length) {
    const due = JSON.parse(honest[position]!) as { tree: string; index: number };
    return { line: position + 1, origin: due.tree, index: due.index };
  }
  const last = bundle.manifest.trees[bundle.manifest.trees.length - 1]!;
  return { line: position + 1, origin: last.origin, index: last.firstIndex + last.lines };
}

type LineJson = {
  tree: string;
  index: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
  [field: string]: unknown;
};

/** Flips one random bit of one random byte of a base64 field; the rest of the line (its `event` included) unchanged. */
function flipByte(base64: string, random: () => number): string {
  const bytes = Buffer.from(base64, 'base64');
  const at = Math.floor(random() * bytes.length);
  bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
  return bytes.toString('base64');
}

/** Made one at a time: each mutated copy of the lines is garbage once verified. */
function* mutations(bundle: Bundle, count: number, seed: number): Generator<Mutation> {
  const random = seededRandom(seed);
  const honest = bundle.eventLines;
  const n = honest.length;
  const pick = (from = 0, to = n) => from + Math.floor(random() * (to - from));
  const replaced = (at: number, line: string) => [...honest.slice(0, at), line, ...honest.slice(at + 1)];
  const lineJson = (at: number) => JSON.parse(honest[at]!) as LineJson;
  const makers: { weight: number; make: () => Mutation }[] = [
    {
      weight: 25,
      make: () => {
        const at = pick();
        const line = lineJson(at);
        return {
          name: `flip a value byte of line ${at + 1}`,
          lines: replaced(at, JSON.stringify({ ...line, value: flipByte(line.value!, random) })),
          kinds: ['changed'],
        };
      },
    },
    {
      weight: 10,
      make: () => {
        const at = pick();
        const line = lineJson(at);
        return {
          name: `flip a key byte of line ${at + 1}`,
          lines: replaced(at, JSON.stringify({ ...line, key: flipByte(line.key!, random) })),
          kinds: ['changed'],
        };
      },
    },
    {
      weight: 15,
      make: () => {
        const at = pick();
        const line = lineJson(at);
        const which = Math.floor(random() * line.headers.length);
        const headers = line.headers.map((header, index) => (index === which ? { ...header, value: flipByte(header.value!, random) } : header));
        return { name: `flip a byte of header ${which} of line ${at + 1}`, lines: replaced(at, JSON.stringify({ ...line, headers })), kinds: ['changed'] };
      },
    },
    {
      weight: 15,
      make: () => {
        const at = pick();
        return { name: `delete line ${at + 1}`, lines: [...honest.slice(0, at), ...honest.slice(at + 1)], kinds: ['unexpected-record', 'missing'] };
      },
    },
    {
      weight: 12,
      make: () => {
        const first = pick(0, n - 1);
        const second = pick(first + 1, n);
        const lines = [...honest];
        lines[first] = honest[second]!;
        lines[second] = honest[first]!;
        return { name: `swap lines ${first + 1} and ${second + 1}`, lines, kinds: ['unexpected-record'] };
      },
    },
    {
      weight: 8,
      make: () => {
        const at = pick(0, n + 1);
        const copy = honest[pick()]!;
        return {
          name: `insert a copy of a line before line ${at + 1}`,
          lines: [...honest.slice(0, at), copy, ...honest.slice(at)],
          kinds: ['unexpected-record'],
        };
      },
    },
    {
      weight: 5,
      make: () => {
        // The hardest forgery: a new record at exactly the position due, with that position's genuine proof.
        const at = pick();
        const line = lineJson(at);
        const forgedEvent = { ...(line['event'] as Record<string, unknown>), id: `forged-${at}`, actor: { kind: 'user', id: 'mallory' } };
        const forged = { ...line, event: forgedEvent, value: Buffer.from(JSON.stringify(forgedEvent)).toString('base64') };
        return {
          name: `insert a forged record before line ${at + 1}`,
          lines: [...honest.slice(0, at), JSON.stringify(forged), ...honest.slice(at)],
          kinds: ['changed'],
        };
      },
    },
    {
      weight: 10,
      make: () => {
        const at = pick(1, n);
        if (random() < 0.5) return { name: `truncate before line ${at + 1}`, lines: honest.slice(0, at), kinds: ['missing'] };
        const cut = honest[at]!.slice(0, 1 + Math.floor(random() * (honest[at]!.length - 1)));
        return { name: `truncate inside line ${at + 1}`, lines: [...honest.slice(0, at), cut], kinds: ['malformed'] };
      },
    },
  ];
  const total = makers.reduce((sum, maker) => sum + maker.weight, 0);
  for (let made = 0; made < count; made += 1) {
    let roll = random() * total;
    const maker = makers.find((candidate) => (roll -= candidate.weight) < 0) ?? makers[0]!;
    yield maker.make();
  }
}

// --- An independent RFC 9162 (section 2.1) implementation, written from the RFC text; it shares no code with the lib. ---
const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const rfcLeaf = (data: Buffer): Buffer => sha256(Buffer.from([0]), data);
const rfcNode = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([1]), left, right);
const rfcK = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
function rfcMth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0]!;
  const k = rfcK(leaves.length);
  return rfcNode(rfcMth(leaves.slice(0, k)), rfcMth(leaves.slice(k)));
}
function rfcPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = rfcK(leaves.length);
  return m < k ? [...rfcPath(m, leaves.slice(0, k)), rfcMth(leaves.slice(k))] : [...rfcPath(m - k, leaves.slice(k)), rfcMth(leaves.slice(0, k))];
}
function rfcSubproof(m: number, leaves: readonly Buffer[], whole: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return whole ? [] : [rfcMth(leaves)];
  const k = rfcK(n);
  return m <= k
    ? [...rfcSubproof(m, leaves.slice(0, k), whole), rfcMth(leaves.slice(k))]
    : [...rfcSubproof(m - k, leaves.slice(k), false), rfcMth(leaves.slice(0, k))];
}
const rfcProof = (m: number, leaves: readonly Buffer[]): Buffer[] => (m === 0 || m === leaves.length ? [] : rfcSubproof(m, leaves, true));
/** Inclusion, verified by walking PATH's recursion backwards (the top sibling is the last element). */
function rfcRootFromPath(index: number, size: number, leaf: Buffer, proof: readonly Buffer[]): Buffer | undefined {
  if (size === 1) return proof.length === 0 ? leaf : undefined;
  if (proof.length === 0) return undefined;
  const k = rfcK(size);
  const sibling = proof[proof.length - 1]!;
  const rest = proof.slice(0, -1);
  if (index < k) {
    const left = rfcRootFromPath(index, k, leaf, rest);
    return left === undefined ? undefined : rfcNode(left, sibling);
  }
  const right = rfcRootFromPath(index - k, size - k, leaf, rest);
  return right === undefined ? undefined : rfcNode(sibling, right);
}
/** Consistency, verified by walking SUBPROOF's recursion backwards: returns the old and new roots the proof implies. */
function rfcConsistent(m: number, n: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (m === 0) return proof.length === 0;
  const items = [...proof];
  const walk = (mm: number, nn: number, whole: boolean): { old: Buffer; new: Buffer } | undefined => {
    if (mm === nn) {
      if (whole) return { old: oldRoot, new: oldRoot };
      const node = items.pop();
      return node === undefined ? undefined : { old: node, new: node };
    }
    const k = rfcK(nn);
    const sibling = items.pop();
    if (sibling === undefined) return undefined;
    if (mm <= k) {
      const inner = walk(mm, k, whole);
      return inner === undefined ? undefined : { old: inner.old, new: rfcNode(inner.new, sibling) };
    }
    const inner = walk(mm - k, nn - k, false);
    return inner === undefined ? undefined : { old: rfcNode(sibling, inner.old), new: rfcNode(sibling, inner.new) };
  };
  const roots = walk(m, n, true);
  return roots !== undefined && items.length === 0 && roots.old.equals(oldRoot) && roots.new.equals(newRoot);
}

describe('tamper evidence: a 10,000-event export against 10,000 single mutations', () => {
  let dir: string;
  let bundle: Bundle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grantline-tamper-'));
    bundle = await writeAndRead(join(dir, 'bundle'), EVENTS, SEED);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given the untouched export, then it verifies clean: every tree recomputed and complete', () => {
    expect(bundle.eventLines.length).toBeGreaterThanOrEqual(EVENTS);
    expect(bundle.manifest.trees).toHaveLength(12);
    const report = verifyLines(bundle, bundle.eventLines);
    expect(report.firstBad).toBeUndefined();
    expect(report).toMatchObject({ ok: true, events: bundle.eventLines.length });
    expect(report.trees.every((tree) => tree.recomputed && tree.complete && tree.rootsMatched === tree.checkpoints)).toBe(true);
    // Offsets have the gaps of transaction markers: on the transactional topics the leaf index is not the offset.
    const gaps = bundle.eventLines.filter((text) => {
      const line = JSON.parse(text) as { index: number; offset: string };
      return Number(line.offset) > line.index;
    });
    expect(gaps.length).toBeGreaterThan(EVENTS / 4);
  });

  it('when each of 10,000 seeded random mutations is applied alone, then every one is detected at exactly its first bad line and leaf', () => {
    const cache = new VerificationCache(bundle.vkey);
    expect(verifyLines(bundle, bundle.eventLines, cache).ok).toBe(true);
    const counts = new Map<string, number>();
    const misses: string[] = [];
    let applied = 0;
    for (const mutation of mutations(bundle, 10_000, SEED)) {
      applied += 1;
      const kind = mutation.name.replace(/ \d+/g, ' N');
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const expected = expectedFirstBad(bundle, mutation.lines);
      const bad = verifyLines(bundle, mutation.lines, cache).firstBad;
      if (
        bad === undefined ||
        bad.file !== 'events.jsonl' ||
        bad.line !== expected.line ||
        bad.origin !== expected.origin ||
        bad.index !== expected.index ||
        !mutation.kinds.includes(bad.kind)
      ) {
        misses.push(`${mutation.name}: expected line ${expected.line} ${expected.origin} leaf ${expected.index}, got ${JSON.stringify(bad)}`);
      }
    }
    expect(misses.slice(0, 5)).toEqual([]);
    expect(applied).toBe(10_000);
    // Every kind of mutation the issue names was exercised.
    expect([...counts.keys()].sort()).toEqual(
      [
        'delete line N',
        'flip a byte of header N of line N',
        'flip a key byte of line N',
        'flip a value byte of line N',
        'insert a copy of a line before line N',
        'insert a forged record before line N',
        'swap lines N and N',
        'truncate before line N',
        'truncate inside line N',
      ].sort(),
    );
    // The cache made the mutations cheap, never lenient: the untouched lines still verify clean through it.
    expect(verifyLines(bundle, bundle.eventLines, cache).ok).toBe(true);
  });

  it("given the export's proofs, then an independent RFC 9162 implementation accepts every consistency proof and sampled inclusion proofs", () => {
    const roots = new Map<string, Map<number, Buffer>>();
    let previous: { tree: string; size: number; root: Buffer } | undefined;
    for (const text of bundle.checkpointLines) {
      const line = parseBundleCheckpointLine(text);
      const checkpoint = parseCheckpoint(openSignedNote(line.note, bundle.vkey).body);
      if (line.consistency !== null) {
        expect(previous?.tree).toBe(line.tree);
        expect(rfcConsistent(line.consistency.fromSize, line.size, previous!.root, checkpoint.rootHash, line.consistency.hashes)).toBe(true);
        expect(rfcConsistent(line.consistency.fromSize, line.size, checkpoint.rootHash, previous!.root, line.consistency.hashes)).toBe(false);
      }
      roots.set(line.tree, (roots.get(line.tree) ?? new Map<number, Buffer>()).set(line.size, checkpoint.rootHash));
      previous = { tree: line.tree, size: line.size, root: checkpoint.rootHash };
    }
    const random = seededRandom(SEED + 1);
    for (let sample = 0; sample < 500; sample += 1) {
      const line = parseBundleEventLine(bundle.eventLines[Math.floor(random() * bundle.eventLines.length)]!);
      const root = roots.get(line.tree)!.get(line.proof.size)!;
      expect(rfcRootFromPath(line.index, line.proof.size, recordLeafHash(line.record), line.proof.hashes)?.equals(root)).toBe(true);
    }
  });

  it('given random trees, then the lib and the independent implementation compute the same roots and proofs, and each accepts the other’s proofs', () => {
    const random = seededRandom(SEED + 2);
    for (let trial = 0; trial < 120; trial += 1) {
      const n = 1 + Math.floor(random() * (trial < 100 ? 70 : 700));
      const leaves = Array.from({ length: n }, (_, i) => rfcLeaf(Buffer.from(`leaf ${trial}/${i}`)));
      const log = new MerkleLog();
      leaves.forEach((leaf) => log.append(leaf));
      const size = 1 + Math.floor(random() * n);
      const prefix = leaves.slice(0, size);
      const root = rfcMth(prefix);
      expect(log.root(size).equals(root)).toBe(true);
      const index = Math.floor(random() * size);
      const libPath = log.inclusionProof(index, size);
      expect(libPath).toEqual(rfcPath(index, prefix));
      expect(rfcRootFromPath(index, size, leaves[index]!, libPath)?.equals(root)).toBe(true);
      expect(verifyInclusion(leaves[index]!, index, size, rfcPath(index, prefix), root)).toBe(true);
      if (size > 1) expect(verifyInclusion(leaves[(index + 1) % size]!, index, size, libPath, root)).toBe(false);
      const oldSize = Math.floor(random() * (size + 1));
      const oldRoot = rfcMth(leaves.slice(0, oldSize));
      const libConsistency = log.consistencyProof(oldSize, size);
      expect(libConsistency).toEqual(rfcProof(oldSize, prefix));
      expect(rfcConsistent(oldSize, size, oldRoot, root, libConsistency)).toBe(true);
      expect(verifyConsistency(oldSize, size, oldRoot, root, rfcProof(oldSize, prefix))).toBe(true);
      if (oldSize > 0 && oldSize < size) {
        const otherOld = rfcMth([...leaves.slice(0, oldSize - 1), rfcLeaf(Buffer.from('forged'))]);
        expect(verifyConsistency(oldSize, size, otherOld, root, libConsistency)).toBe(false);
        expect(rfcConsistent(oldSize, size, otherOld, root, libConsistency)).toBe(false);
      }
    }
  });
});

describe('tamper evidence through the CLI: mutated bundles on disk, `grantline verify`', () => {
  let dir: string;
  let bundle: Bundle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grantline-tamper-cli-'));
    bundle = await writeAndRead(join(dir, 'bundle'), CLI_EVENTS, SEED + 3);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given the untouched bundle, then verify exits 0 and warns that the key came from the bundle', () => {
    const io = bufferedOutput();
    expect(verifyCommand({ bundle: bundle.dir }, io)).toBe(0);
    expect(io.stdout()).toMatch(/\nOK {2}every checkpoint signed and consistent/);
    expect(io.stderr()).toMatch(/^warning: the verifier key was taken from the bundle itself/);
  });

  it(`when ${CLI_MUTATIONS} mutations are written to disk one at a time, then verify exits 1 naming the first bad line, tree and leaf`, () => {
    const cache = new VerificationCache(bundle.vkey);
    const events = join(bundle.dir, 'events.jsonl');
    const misses: string[] = [];
    for (const mutation of mutations(bundle, CLI_MUTATIONS, SEED + 4)) {
      const partialLastLine = mutation.name.startsWith('truncate inside');
      writeFileSync(events, mutation.lines.join('\n') + (partialLastLine || mutation.lines.length === 0 ? '' : '\n'));
      const expected = expectedFirstBad(bundle, mutation.lines);
      const io = bufferedOutput();
      const code = verifyCommand({ bundle: bundle.dir }, io, { cache });
      const named = `TAMPERED  first bad position: events.jsonl line ${expected.line}: tree ${expected.origin}, leaf ${expected.index}`;
      if (code !== 1 || !io.stdout().includes(named) || !io.stdout().includes('TAMPERED  events.jsonl: its size or SHA-256 differs')) {
        misses.push(`${mutation.name}: exit ${code}, expected '${named}' in:\n${io.stdout()}`);
      }
    }
    expect(misses.slice(0, 3)).toEqual([]);
  });
});
