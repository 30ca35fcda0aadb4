import { PolicyBundleLoaded, PolicyDecisionRecorded, isEvent } from '@grantline/contracts';
import type { DecisionRecordedData, EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { BacktestAccumulator, evaluate, loadBundleFromFiles, policyInputSchema } from '@grantline/policy-engine';
import type { Bundle, BundleFile, BacktestReport, Decision, PolicyInput, ProgressListener } from '@grantline/policy-engine';
import { engineDigest } from '../domain';

/** How the recorded side of each comparison was obtained, and what could not be compared. */
export interface HistoryStats {
  /** Decision records read from the log (duplicates included). */
  readonly read: number;
  /** Distinct requests compared: the latest recorded decision of each. */
  readonly requests: number;
  /** Re-run with the bundle that recorded them (from the bundles topic) and found identical in effect. */
  readonly reproduced: number;
  /** Rebuilt from the recorded fields alone (bundle not on the log, or not reproducible); may show constraint noise. */
  readonly fromRecord: number;
  /** Refused at the service edge (unknown entitlement, subject...): no engine input to re-run. */
  readonly refusals: number;
  /** Input snapshot no longer valid engine input. */
  readonly invalidSnapshots: number;
}

export interface LogBacktestResult {
  readonly report: BacktestReport;
  readonly history: HistoryStats;
  /** Whether every request on the log was compared; a backtest stopped at a limit reports what it covered. */
  readonly coverage: BacktestCoverage;
}

export interface BacktestCoverage {
  readonly complete: boolean;
  /** `max_requests`: more distinct requests than `maxRequests`; `time_limit`: evaluation ran past `maxMillis`. */
  readonly stoppedBecause?: 'max_requests' | 'time_limit';
  /** Requests compared (the others, past the limit, were read but not evaluated). */
  readonly compared: number;
}

export interface LogBacktestOptions {
  readonly examplesPerKind?: number;
  /** Called with (done, total) while the history is evaluated against the candidate. */
  readonly onProgress?: ProgressListener;
  /** Distinct requests indexed at most (each costs an id and a log position in memory); unbounded when absent. */
  readonly maxRequests?: number;
  /** Wall time for the evaluation pass; past it the rest is not evaluated. Unbounded when absent. */
  readonly maxMillis?: number;
  /** Synchronous work between two yields to the event loop, so live decisions interleave with a long backtest. */
  readonly sliceMillis?: number;
}

/** How many compiled recorded bundles are kept at once: the log may hold every bundle ever deployed. */
const COMPILED_BUNDLES_KEPT = 8;
const DEFAULT_SLICE_MS = 20;

/** The engine's view of a recorded decision, from the contract fields only (credential type and review flag are not recorded). */
export const decisionFromRecord = (data: DecisionRecordedData, input: PolicyInput): Decision => ({
  requestId: data.requestId,
  effect: data.effect,
  route: (data.route?.stages ?? []).map((stage) => ({
    name: stage.id,
    quorum: stage.quorum,
    approvers: stage.approvers.map((approver) => ({ resolver: approver.resolver, ref: approver.group ?? approver.resolvedIdentityIds?.[0] ?? null })),
  })),
  constraints: {
    maxDuration: data.constraints.maxDuration,
    credentialType: null,
    recertificationEvery: data.constraints.recertificationEvery ?? null,
    breakGlassAllowed: data.constraints.breakGlassAllowed,
    reviewRequired: false,
  },
  effectiveDuration: null,
  risk: { score: data.risk.score, factors: data.risk.factors },
  sodConflicts: [],
  reasons: data.reasons,
  matchedRules: data.matchedRules,
  recordOnly: [],
  entitlements: [],
  bundleDigest: engineDigest(data.bundleDigest),
  provenance: { bundleName: 'unknown', bundleVersion: 'unknown', bundleDigest: engineDigest(data.bundleDigest), engineVersion: 'unknown', input },
});

/** Where a request's latest decision sits on the log, and whether it was a refusal at the edge (not re-run). */
interface LatestDecision {
  readonly position: string;
  readonly refusal: boolean;
}

const positionOf = (context: { partition: number; offset: string }): string => `${context.partition}:${context.offset}`;

/** The recorded bundles by digest (few: one per deployment), compiled lazily, the most recently used kept. */
class RecordedBundles {
  private readonly files = new Map<string, readonly BundleFile[]>();
  private readonly compiled = new Map<string, Bundle | null>();

  add(digest: string, files: readonly BundleFile[]): void {
    this.files.set(digest, files);
  }

  get(digest: string): Bundle | null {
    const known = this.compiled.get(digest);
    if (known !== undefined) {
      this.compiled.delete(digest);
      this.compiled.set(digest, known);
      return known;
    }
    const files = this.files.get(digest);
    let bundle: Bundle | null = null;
    try {
      // Recorded bundles were shipped and reviewed: compiled as the service compiles its own, without draft limits.
      bundle = files ? loadBundleFromFiles(files) : null;
    } catch {
      bundle = null;
    }
    this.compiled.set(digest, bundle);
    if (this.compiled.size > COMPILED_BUNDLES_KEPT) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    return bundle;
  }
}

/**
 * Replays the recorded decisions (with their input snapshots) and the announced bundles from the log,
 * re-runs every request's input through the candidate bundle, and reports what would change. The
 * recorded side is re-derived with the bundle that recorded it when that bundle is on the log, so
 * the comparison covers everything the engine decides, not only what the contract carries.
 *
 * Streamed, in memory bounded by the number of requests and not by the log: the bundles topic is read first; a
 * first pass over the decisions keeps, per request, only where its latest decision is (decisions are keyed by
 * request, so a request's decisions sit in one partition, in order: the last one wins); the second pass evaluates
 * each latest decision as it is read and keeps only the report's aggregates and bounded samples. Evaluation yields
 * to the event loop every `sliceMillis`, so the service's live decisions are not held up by a long backtest.
 */
export const backtestLog = async (
  bus: MessageBus,
  registry: EventRegistry,
  candidate: Bundle,
  options: LogBacktestOptions = {},
): Promise<LogBacktestResult> => {
  const decisionTopic = registry.latestOf(PolicyDecisionRecorded.name).topic;
  const bundleTopic = registry.latestOf(PolicyBundleLoaded.name).topic;
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const maxMillis = options.maxMillis ?? Number.POSITIVE_INFINITY;
  const sliceMillis = options.sliceMillis ?? DEFAULT_SLICE_MS;

  const recordedBundles = new RecordedBundles();
  await bus.replay({
    topics: [bundleTopic],
    handler: async (event) => {
      if (isEvent(event, PolicyBundleLoaded)) recordedBundles.add(event.data.digest, event.data.files);
    },
  });

  // Pass 1: where each request's latest decision is.
  const latest = new Map<string, LatestDecision>();
  let read = 0;
  let tooMany = false;
  await bus.replay({
    topics: [decisionTopic],
    handler: async (event, context) => {
      if (!isEvent(event, PolicyDecisionRecorded)) return;
      read += 1;
      const { requestId } = event.data;
      if (!latest.has(requestId) && latest.size >= maxRequests) {
        tooMany = true;
        return;
      }
      latest.set(requestId, { position: positionOf(context), refusal: event.data.engine === 'builtin' });
    },
  });

  // Pass 2: each latest decision through the candidate, as it is read.
  let total = 0;
  for (const entry of latest.values()) if (!entry.refusal) total += 1;
  const accumulator = new BacktestAccumulator(candidate, options.examplesPerKind ?? 3);
  let reproduced = 0;
  let fromRecord = 0;
  let refusals = 0;
  let invalidSnapshots = 0;
  let done = 0;
  let outOfTime = false;
  let failure: unknown;
  const started = performance.now();
  let sliceStarted = started;

  const compare = (data: DecisionRecordedData): void => {
    if (data.engine === 'builtin') {
      refusals += 1;
      return;
    }
    const parsed = policyInputSchema.safeParse(data.inputSnapshot);
    if (!parsed.success) {
      invalidSnapshots += 1;
      return;
    }
    const input = parsed.data;
    const bundle = recordedBundles.get(data.bundleDigest);
    let recorded: Decision | undefined;
    if (bundle) {
      const rerun = evaluate(bundle, input);
      if (rerun.effect === data.effect && rerun.matchedRules.join(',') === data.matchedRules.join(',')) recorded = rerun;
    }
    if (recorded) reproduced += 1;
    else {
      recorded = decisionFromRecord(data, input);
      fromRecord += 1;
    }
    accumulator.add({ requestId: data.requestId, input, recorded });
    options.onProgress?.(++done, total);
  };

  await bus.replay({
    topics: [decisionTopic],
    handler: async (event, context) => {
      // After a failure or past the time limit the rest of the log is only read (a replay cannot be cut short).
      if (failure !== undefined || outOfTime || !isEvent(event, PolicyDecisionRecorded)) return;
      if (latest.get(event.data.requestId)?.position !== positionOf(context)) return;
      try {
        compare(event.data);
      } catch (error) {
        // Never thrown into the consumer (it would retry the batch): kept, and thrown once the replay is over.
        failure = error;
        return;
      }
      const now = performance.now();
      if (now - started > maxMillis) outOfTime = true;
      else if (now - sliceStarted > sliceMillis) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStarted = performance.now();
      }
    },
  });
  if (failure !== undefined) throw failure;

  const report = accumulator.build();
  const compared = report.total + refusals + invalidSnapshots;
  const stoppedBecause = outOfTime ? 'time_limit' : tooMany ? 'max_requests' : undefined;
  return {
    report,
    history: { read, requests: latest.size, reproduced, fromRecord, refusals, invalidSnapshots },
    coverage: { complete: stoppedBecause === undefined, compared, ...(stoppedBecause === undefined ? {} : { stoppedBecause }) },
  };
};
