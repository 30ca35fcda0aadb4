// Backtesting: replay recorded decisions' inputs through a candidate bundle and classify what would
// change. Pure over an iterable (or async iterable) of history, so the Kafka-log reader, a file and a
// test array all feed it the same way.
import type { Bundle } from './bundle.types';
import type { Decision, Effect } from './decision.types';
import { canonicalJson, evaluate } from './evaluate';

export const CHANGE_KINDS = [
  'newly_denied',
  'newly_auto_approved',
  'newly_requires_approval',
  'route_changed',
  'constraints_changed',
  'unchanged',
] as const;
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
  readonly errors: readonly { readonly requestId: string; readonly message: string }[];
}

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

class ReportBuilder {
  private total = 0;
  private readonly counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  private readonly examples = Object.fromEntries(CHANGE_KINDS.map((k) => [k, [] as BacktestExample[]])) as Record<
    ChangeKind,
    BacktestExample[]
  >;
  private readonly recordedBundles: Record<string, number> = {};
  private readonly errors: { requestId: string; message: string }[] = [];

  constructor(
    private readonly candidate: Bundle,
    private readonly perKind: number,
  ) {}

  add(entry: HistoryEntry): void {
    this.total++;
    const digest = entry.recorded.bundleDigest;
    this.recordedBundles[digest] = (this.recordedBundles[digest] ?? 0) + 1;
    let after: Decision;
    try {
      after = evaluate(this.candidate, entry.input);
    } catch (e) {
      this.errors.push({ requestId: entry.requestId, message: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '' });
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
    };
  }
}

export const backtest = (
  history: Iterable<HistoryEntry>,
  candidate: Bundle,
  onProgress?: ProgressListener,
  options: BacktestOptions = {},
): BacktestReport => {
  const builder = new ReportBuilder(candidate, options.examplesPerKind ?? 3);
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
  const builder = new ReportBuilder(candidate, options.examplesPerKind ?? 3);
  let done = 0;
  for await (const entry of history) {
    builder.add(entry);
    onProgress?.(++done, options.total ?? null);
  }
  return builder.build();
};
