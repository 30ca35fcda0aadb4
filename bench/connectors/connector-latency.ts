import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * One connector against its real target, measured the same way as every other: each round times a bare read of the
 * target (the baseline: the floor of any change there) and the connector's steps on a fresh account or grant, so every
 * grant and revoke really changes the target.
 */
export interface LatencyTarget {
  readonly name: string;
  /** What the baseline times, e.g. "one DescribeAcls". */
  readonly baseline: string;
  /** The steps a round times besides the baseline, in print order: key → what it does. */
  readonly steps: Readonly<Record<string, string>>;
  /** Round `index` (negative: warm-up, not kept): milliseconds for `baseline` and for every step. */
  round(index: number): Promise<Readonly<Record<string, number>>>;
  /** Removes what the rounds left in the target; runs even when a round failed. */
  close(): Promise<void>;
}

export interface LatencySummary {
  readonly ops: number;
  readonly baselineP50Ms: number;
  readonly steps: Readonly<Record<string, { readonly p50Ms: number; readonly p95Ms: number; readonly timesBaseline: number }>>;
}

const WARM_UP_ROUNDS = 5;

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Fails the round: a step that did not change what it should have measures nothing worth printing. */
export function expectChanged(outcome: { readonly changed: boolean }, changed: boolean, what: string): void {
  if (outcome.changed !== changed) throw new Error(`${what} ${changed ? 'changed nothing' : 'changed the target'}`);
}

const round2 = (value: number): number => Number(value.toFixed(2));

/** Runs `ops` measured rounds (after the warm-up), prints the table to stderr and returns the figures. */
export async function measureLatency(target: LatencyTarget, ops: number, say: (line: string) => void): Promise<LatencySummary> {
  const samples = new Map<string, number[]>([['baseline', []], ...Object.keys(target.steps).map((key): [string, number[]] => [key, []])]);
  try {
    for (let index = -WARM_UP_ROUNDS; index < ops; index += 1) {
      const round = await target.round(index);
      if (index < 0) continue;
      for (const [key, values] of samples) {
        const value = round[key];
        if (value === undefined) throw new Error(`${target.name}: round ${index} did not time '${key}'`);
        values.push(value);
      }
    }
  } finally {
    await target.close();
  }
  const base = percentile(samples.get('baseline') ?? [], 50);
  const row = (label: string, values: readonly number[]): string =>
    `${label.padEnd(44)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms   ×${(
      percentile(values, 50) / base
    ).toFixed(1)} baseline`;
  say(`${target.name}: ${ops} rounds (load ${loadavg()[0]?.toFixed(2)})`);
  say(row(`baseline: ${target.baseline}`, samples.get('baseline') ?? []));
  const steps: Record<string, LatencySummary['steps'][string]> = {};
  for (const [key, label] of Object.entries(target.steps)) {
    const values = samples.get(key) ?? [];
    say(row(label, values));
    steps[key] = { p50Ms: round2(percentile(values, 50)), p95Ms: round2(percentile(values, 95)), timesBaseline: round2(percentile(values, 50) / base) };
  }
  return { ops, baselineP50Ms: round2(base), steps };
}
