/**
 * `npm run bench:verify`: how fast `grantline verify` checks an evidence bundle, next to the same run's raw read of it.
 *
 * Generates a signed log itself (request lifecycles from the contracts' fixtures on 4 topics × 3 partitions, with
 * transaction-marker offset gaps, a checkpoint every BENCH_VERIFY_CHECKPOINT_EVERY records of a tree and at each end),
 * writes it as a bundle with the one bundle writer, then times (a) baseline: read events.jsonl, split it into lines
 * and JSON.parse every line; (b) verify: the CLI's full offline verification of the directory (every signature and
 * consistency proof, every record's leaf hash and inclusion proof, `event` against the value bytes, the trees
 * recomputed from leaf 0, the file digests). Prints events/s of both and their ratio, ends with one JSON line.
 *
 * BENCH_VERIFY_EVENTS (200,000), BENCH_VERIFY_CHECKPOINT_EVERY (1,000), BENCH_VERIFY_KEEP=1 keeps the bundle.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the CLI's own bundle reader and verifier, which live in tools/cli
import { forEachLine, writeBundle } from '../tools/cli/src/evidence-bundle/bundle-files';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the same realistic log generator as the tamper spec
import { buildSyntheticLog, syntheticBundleInput } from '../tools/cli/src/evidence-bundle/synthetic-log';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the verification `grantline verify` runs
import { verifyBundleDir } from '../tools/cli/src/evidence-bundle/verify-commands';

const say = (line: string): void => void process.stderr.write(`verify | ${line}\n`);

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw} is not a positive whole number`);
  return value;
}

const perSecond = (count: number, ms: number): number => Math.round((count / ms) * 1_000);

/** Generates, signs and writes the bundle; only counts leave this function, so the log in memory can be collected before timing. */
async function writeSignedBundle(bundle: string, events: number, checkpointEvery: number): Promise<{ events: number }> {
  let started = performance.now();
  const log = buildSyntheticLog({ events, checkpointEvery, seed: 11 });
  say(`${log.events} events on ${log.trees.length} trees generated and signed in ${Math.round(performance.now() - started)} ms`);
  started = performance.now();
  const manifest = await writeBundle(bundle, syntheticBundleInput(log));
  const bytes = statSync(join(bundle, 'events.jsonl')).size;
  const checkpoints = manifest.trees.reduce((sum, tree) => sum + tree.checkpoints, 0);
  say(
    `bundle written in ${Math.round(performance.now() - started)} ms: events.jsonl ${(bytes / 1_048_576).toFixed(1)} MiB (${Math.round(bytes / log.events)} B/line), ${checkpoints} checkpoints`,
  );
  return { events: log.events };
}

export async function runVerifyBench(): Promise<void> {
  const events = whole('BENCH_VERIFY_EVENTS', 200_000);
  const checkpointEvery = whole('BENCH_VERIFY_CHECKPOINT_EVERY', 1_000);
  const dir = mkdtempSync(join(tmpdir(), 'grantline-bench-verify-'));
  const bundle = join(dir, 'bundle');
  try {
    const log = await writeSignedBundle(bundle, events, checkpointEvery);

    // (a) baseline: the raw read of the export, the least any reader of it does.
    let started = performance.now();
    let parsed = 0;
    forEachLine(join(bundle, 'events.jsonl'), (line) => {
      if (JSON.parse(line) !== null) parsed += 1;
    });
    const rawMs = performance.now() - started;
    if (parsed !== log.events) throw new Error(`raw read: ${parsed} lines, expected ${log.events}`);
    const raw = perSecond(parsed, rawMs);
    say(`baseline: read + split + JSON.parse ${parsed} lines in ${Math.round(rawMs)} ms: ${raw} events/s`);

    // (b) the full offline verification, as `grantline verify --bundle <dir> --key <pinned>` runs it.
    started = performance.now();
    const { report, fileProblems } = verifyBundleDir(bundle);
    const verifyMs = performance.now() - started;
    if (!report.ok || fileProblems.length > 0) throw new Error(`the untouched bundle does not verify: ${JSON.stringify(report.firstBad ?? fileProblems)}`);
    const verified = perSecond(report.events, verifyMs);
    say(
      `verify:   ${report.events} records, ${report.checkpoints} checkpoints, ${report.trees.length} trees recomputed in ${Math.round(verifyMs)} ms: ${verified} events/s`,
    );
    const ratio = Math.round((verifyMs / rawMs) * 100) / 100;
    say(
      `ratio: verify takes ${ratio}× the raw read (${Math.round((verified / raw) * 1000) / 10}% of its rate); load average ${loadavg()[0]!.toFixed(2)} on this machine`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'verify',
        events: report.events,
        trees: report.trees.length,
        checkpoints: report.checkpoints,
        bytes: statSync(join(bundle, 'events.jsonl')).size,
        rawReadMs: Math.round(rawMs),
        rawReadEventsPerSecond: raw,
        verifyMs: Math.round(verifyMs),
        verifyEventsPerSecond: verified,
        verifyOverRawTime: ratio,
        loadAverage: Math.round(loadavg()[0]! * 100) / 100,
      })}\n`,
    );
  } finally {
    if (process.env['BENCH_VERIFY_KEEP'] === '1') say(`bundle kept in ${bundle}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
