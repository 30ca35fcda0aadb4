// Backtesting: replay recorded decisions' inputs through a candidate bundle and classify what would
// change. Pure over an iterable (or async iterable) of history, so the Kafka-log reader, a file and a
// test array all feed it the same way.
import type { Bundle } from './bundle.types';
import { EvaluationLimitExceeded } from './cel.limits';
import type { Decision, Effect } from './decision.types';
import { canonicalJson, evaluate } from './evaluate';

export const CHANGE_KINDS = ['newly_denied', 'newly_auto_approved', 'newly_requires_approval', 'route_changed', 'constraints_changed', 'unchanged'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface HistoryEntry {
  readonly requestId: string;
  /** The input snapshot as recorded; usually recorded.provenance.input. */
  readonly input: unknown;
  readonly recorded: Decision;
}

export interface BacktestExample {
  readonly requestId: string;
  readonly before: Pick<Decision, 'effect' | 'route' | 'constraints' | 'reasons'>;
  readonly after: Pick<Decision, 'effect' | 'route' | 'constraints' | 'reasons'>;
}

export interface BacktestReport {
  readonly candidate: { readonly name: string; readonly version: string; readonly digest: string };
  readonly total: number;
  readonly counts: Readonly<Record<ChangeKind, number>>;
  readonly examples: Readonly<Record<ChangeKind, readonly BacktestExample[]>>;
  /** How many recorded decisions each previous bundle made. */
  readonly recordedBundles: Readonly<Record<string, number>>;
  /** The first MAX_LISTED_ERRORS inputs the candidate could not evaluate; `errorCount` counts them all. */
  readonly errors: readonly { readonly requestId: string; readonly message: string }[];
  readonly errorCount: number;
}

/** Errors listed in a report: a candidate that fails on every input must not grow the report with the log. */
export const MAX_LISTED_ERRORS = 100;

export interface BacktestOptions {
  readonly examplesPerKind?: number;
  /** Known size of the history, passed back to onProgress so a bar can be drawn. */
  readonly total?: number;
}

export type ProgressListener = (done: number, total: number | null) => void;

const NEW_EFFECT: Record<Effect, ChangeKind> = {
  deny: 'newly_denied',
  auto_approve: 'newly_auto_approved',
  require_approval: 'newly_requires_approval',
};

export const classifyChange = (before: Decision, after: Decision): ChangeKind => {
  if (before.effect !== after.effect) return NEW_EFFECT[after.effect];
  if (canonicalJson(before.route) !== canonicalJson(after.route)) return 'route_changed';
  if (canonicalJson(before.constraints) !== canonicalJson(after.constraints)) return 'constraints_changed';
  return 'unchanged';
};

const summary = (d: Decision): BacktestExample['before'] => ({
  effect: d.effect,
  route: d.route,
  constraints: d.constraints,
  reasons: d.reasons,
});

/**
 * The report built one entry at a time, holding only aggregates and bounded samples (examples per kind, the first
 * errors), so a caller streaming a log of any length keeps memory flat: add each entry as it is read, build at the end.
 */
export class BacktestAccumulator {
  private total = 0;
  private errorCount = 0;
  private readonly counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  private readonly examples = Object.fromEntries(CHANGE_KINDS.map((k) => [k, [] as BacktestExample[]])) as Record<ChangeKind, BacktestExample[]>;
  private readonly recordedBundles: Record<string, number> = {};
  private readonly errors: { requestId: string; message: string }[] = [];

  constructor(
    private readonly candidate: Bundle,
    private readonly perKind = 3,
  ) {}

  get count(): number {
    return this.total;
  }

  add(entry: HistoryEntry): void {
    this.total++;
    const digest = entry.recorded.bundleDigest;
    this.recordedBundles[digest] = (this.recordedBundles[digest] ?? 0) + 1;
    let after: Decision;
    try {
      after = evaluate(this.candidate, entry.input);
    } catch (e) {
      // A draft over its evaluation limit is refused as a whole, not reported request by request.
      if (e instanceof EvaluationLimitExceeded) throw e;
      this.errorCount++;
      if (this.errors.length < MAX_LISTED_ERRORS) {
        this.errors.push({ requestId: entry.requestId, message: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '' });
      }
      return;
    }
    const kind = classifyChange(entry.recorded, after);
    this.counts[kind]++;
    const list = this.examples[kind];
    if (kind !== 'unchanged' && list.length < this.perKind) {
      list.push({ requestId: entry.requestId, before: summary(entry.recorded), after: summary(after) });
    }
  }

  build(): BacktestReport {
    return {
      candidate: { name: this.candidate.name, version: this.candidate.version, digest: this.candidate.digest },
      total: this.total,
      counts: { ...this.counts },
      examples: { ...this.examples },
      recordedBundles: { ...this.recordedBundles },
      errors: [...this.errors],
      errorCount: this.errorCount,
    };
  }
}

export const backtest = (history: Iterable<HistoryEntry>, candidate: Bundle, onProgress?: ProgressListener, options: BacktestOptions = {}): BacktestReport => {
  const builder = new BacktestAccumulator(candidate, options.examplesPerKind ?? 3);
  let done = 0;
  for (const entry of history) {
    builder.add(entry);
    onProgress?.(++done, options.total ?? null);
  }
  return builder.build();
};

/** The same over an async source such as a Kafka log reader. */
export const backtestAsync = async (
  history: AsyncIterable<HistoryEntry> | Iterable<HistoryEntry>,
  candidate: Bundle,
  onProgress?: ProgressListener,
  options: BacktestOptions = {},
): Promise<BacktestReport> => {
  const builder = new BacktestAccumulator(candidate, options.examplesPerKind ?? 3);
  let done = 0;
  for await (const entry of history) {
    builder.add(entry);
    onProgress?.(++done, options.total ?? null);
  }
  return builder.build();
};
