import { generateKeyPairSync } from 'node:crypto';
import { bundleCheckpointLine, bundleEventLine, parseBundleEventLine } from './bundle-lines';
import { BundleVerifier, VerificationCache } from './bundle-verifier';
import type { BundleVerifyReport, TreeExpectation } from './bundle-verifier';
import { formatCheckpoint, treeOrigin } from './checkpoint';
import { MerkleLog } from './merkle';
import { recordLeafHash } from './record-leaf';
import type { LogRecordBytes } from './record-leaf';
import { createNoteSigner, verifierKey } from './signed-note';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = createNoteSigner('audit.test/log', privateKey);
const vkey = verifierKey('audit.test/log', publicKey);

/** Two trees of a few records, checkpoints at `every` and at the end; lines as the bundle writer makes them. */
function bundle(options: { sizes?: number[]; every?: number; from?: number[] } = {}) {
  const sizes = options.sizes ?? [7, 5];
  const every = options.every ?? 3;
  const checkpointLines: string[] = [];
  const eventLines: string[] = [];
  const trees: TreeExpectation[] = [];
  sizes.forEach((size, partition) => {
    const origin = treeOrigin({ clusterId: 'c1', topic: 'iga.grants.v1', partition });
    const log = new MerkleLog();
    const records: LogRecordBytes[] = [];
    const notes: { size: number; note: string }[] = [];
    for (let index = 0; index < size; index += 1) {
      const record: LogRecordBytes = {
        topic: 'iga.grants.v1',
        partition,
        offset: String(index * 2),
        key: Buffer.from(`req-${index}`),
        value: Buffer.from(JSON.stringify({ id: `evt-${partition}-${index}`, type: 'iga.grant.activated.v1', data: { n: index } })),
        headers: [{ key: 'ce_id', value: Buffer.from(`evt-${partition}-${index}`) }],
      };
      records.push(record);
      log.append(recordLeafHash(record));
      if (log.size % every === 0 || log.size === size)
        notes.push({ size: log.size, note: signer.sign(formatCheckpoint({ origin, size: log.size, rootHash: log.root() })) });
    }
    notes.forEach(({ size: checkpointSize, note }, position) => {
      const previous = notes[position - 1]?.size;
      checkpointLines.push(
        bundleCheckpointLine({
          tree: origin,
          size: checkpointSize,
          note,
          consistency: previous === undefined ? null : { fromSize: previous, hashes: log.consistencyProof(previous, checkpointSize) },
        }),
      );
    });
    const first = options.from?.[partition] ?? 0;
    for (let index = first; index < size; index += 1) {
      eventLines.push(bundleEventLine({ tree: origin, index, record: records[index]!, proof: { size, hashes: log.inclusionProof(index, size) } }));
    }
    trees.push({ origin, firstIndex: first, count: size - first });
  });
  return { checkpointLines, eventLines, trees };
}

function verify(
  lines: { checkpointLines: readonly string[]; eventLines: readonly string[] },
  options: { trees?: TreeExpectation[]; key?: string; cache?: VerificationCache } = {},
): BundleVerifyReport {
  const verifier = new BundleVerifier({
    verifierKey: options.key ?? vkey,
    ...(options.trees === undefined ? {} : { trees: options.trees }),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  lines.checkpointLines.forEach((line) => verifier.addCheckpointLine(line));
  lines.eventLines.forEach((line) => verifier.addEventLine(line));
  return verifier.finish();
}

describe('BundleVerifier', () => {
  it('given an untouched bundle, then it is ok: every tree recomputed from leaf 0, complete, its roots equal to every checkpoint', () => {
    const lines = bundle();
    const report = verify(lines, { trees: lines.trees });
    expect(report).toMatchObject({ ok: true, events: 12, checkpoints: 5 });
    expect(report.trees.map((tree) => [tree.records, tree.recomputed, tree.complete, tree.rootsMatched, tree.checkpoints])).toEqual([
      [7, true, true, 3, 3],
      [5, true, true, 2, 2],
    ]);
    // Without the manifest's expectations the checkpoints say what is due: the same verdict.
    expect(verify(lines).ok).toBe(true);
  });

  it('given a window export (not from leaf 0), then it verifies by inclusion proofs and contiguity, and says it is no recomputed tree', () => {
    const lines = bundle({ from: [4, 0] });
    const report = verify(lines, { trees: lines.trees });
    expect(report.ok).toBe(true);
    expect(report.trees[0]).toMatchObject({ firstIndex: 4, records: 3, recomputed: false, complete: false });
    // A window with its first record deleted is caught by the listed first index.
    expect(verify({ ...lines, eventLines: lines.eventLines.slice(1) }, { trees: lines.trees }).firstBad).toMatchObject({
      line: 1,
      index: 4,
      kind: 'unexpected-record',
    });
  });

  it('when the bundle is checked with another key, then the first checkpoint is refused as unsigned', () => {
    const lines = bundle();
    const other = verifierKey('audit.test/log', generateKeyPairSync('ed25519').publicKey);
    expect(verify(lines, { key: other }).firstBad).toMatchObject({ file: 'checkpoints.jsonl', line: 1, kind: 'checkpoint-signature' });
  });

  it('when a checkpoint line is deleted, changed or replaced by a forked tree, then it is named', () => {
    const lines = bundle();
    const without = { ...lines, checkpointLines: lines.checkpointLines.filter((_, i) => i !== 1) };
    expect(verify(without, { trees: lines.trees }).firstBad).toMatchObject({ file: 'checkpoints.jsonl', line: 2, kind: 'checkpoint-inconsistent' });

    const changed = JSON.parse(lines.checkpointLines[1]!) as { size: number };
    const resized = {
      ...lines,
      checkpointLines: lines.checkpointLines.map((line, i) => (i === 1 ? JSON.stringify({ ...changed, size: changed.size + 1 }) : line)),
    };
    expect(verify(resized, { trees: lines.trees }).firstBad).toMatchObject({ file: 'checkpoints.jsonl', line: 2, kind: 'checkpoint-signature' });

    // A correctly signed checkpoint of another history (a fork): its consistency proof cannot verify.
    const origin = lines.trees[0]!.origin;
    const fork = signer.sign(formatCheckpoint({ origin, size: 6, rootHash: Buffer.alloc(32, 7) }));
    const forked = {
      ...lines,
      checkpointLines: lines.checkpointLines.map((line, i) =>
        i === 1 ? bundleCheckpointLine({ ...JSON.parse(line), note: fork, consistency: { fromSize: 3, hashes: [] } }) : line,
      ),
    };
    expect(verify(forked, { trees: lines.trees }).firstBad).toMatchObject({ file: 'checkpoints.jsonl', line: 2, kind: 'checkpoint-inconsistent' });
  });

  it('when `event` is not the JSON of the value, then the line is named even though the record bytes are intact', () => {
    const lines = bundle();
    const line = JSON.parse(lines.eventLines[2]!) as Record<string, unknown>;
    const edited = {
      ...lines,
      eventLines: lines.eventLines.map((text, i) => (i === 2 ? JSON.stringify({ ...line, event: { ...(line['event'] as object), type: 'x' } }) : text)),
    };
    expect(verify(edited, { trees: lines.trees }).firstBad).toMatchObject({ line: 3, index: 2, offset: '4', kind: 'event-mismatch' });
  });

  it('when a line claims another topic than its tree, or the manifest lists more than the checkpoints cover, then it is named', () => {
    const lines = bundle();
    const parsed = parseBundleEventLine(lines.eventLines[0]!);
    const moved = bundleEventLine({ ...parsed, record: { ...parsed.record, partition: 1 } });
    expect(verify({ ...lines, eventLines: [moved, ...lines.eventLines.slice(1)] }, { trees: lines.trees }).firstBad).toMatchObject({
      line: 1,
      kind: 'coordinates',
    });
    const overclaim = lines.trees.map((tree, i) => (i === 0 ? { ...tree, count: tree.count + 1 } : tree));
    expect(verify(lines, { trees: overclaim }).firstBad).toMatchObject({
      line: 1,
      kind: 'malformed',
      reason: expect.stringMatching(/beyond the last checkpoint/),
    });
  });

  it('when the bundle is truncated, then the first missing leaf is named one past the last line', () => {
    const lines = bundle();
    expect(verify({ ...lines, eventLines: lines.eventLines.slice(0, 9) }, { trees: lines.trees }).firstBad).toMatchObject({
      line: 10,
      origin: lines.trees[1]!.origin,
      index: 2,
      kind: 'missing',
    });
    expect(verify({ ...lines, eventLines: [] }).firstBad).toMatchObject({ line: 1, index: 0, kind: 'missing' });
  });

  it('given a cache, then results are the same as without, and a cache for another key is refused', () => {
    const lines = bundle();
    const cache = new VerificationCache(vkey);
    expect(verify(lines, { trees: lines.trees, cache }).ok).toBe(true);
    const flipped = lines.eventLines.map((line, i) => (i === 4 ? line.replace('"key":"cmVxLTQ="', '"key":"cmVxLTU="') : line));
    expect(flipped[4]).not.toBe(lines.eventLines[4]);
    expect(verify({ ...lines, eventLines: flipped }, { trees: lines.trees, cache }).firstBad).toMatchObject({ line: 5, index: 4, kind: 'changed' });
    expect(verify({ ...lines, eventLines: flipped }, { trees: lines.trees }).firstBad).toMatchObject({ line: 5, index: 4, kind: 'changed' });
    expect(verify(lines, { trees: lines.trees, cache }).ok).toBe(true);
    expect(() => new BundleVerifier({ verifierKey: verifierKey('other', publicKey), cache })).toThrow(/another verifier key/);
    expect(() => new BundleVerifier({ verifierKey: vkey, trees: [lines.trees[0]!, lines.trees[0]!] })).toThrow(/listed twice/);
  });
});
