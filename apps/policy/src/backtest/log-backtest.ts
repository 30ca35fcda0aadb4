import { PolicyBundleLoaded, PolicyDecisionRecorded, isEvent } from '@grantline/contracts';
import type { DecisionRecordedData, EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { backtestAsync, evaluate, loadBundleFromFiles, policyInputSchema } from '@grantline/policy-engine';
import type { Bundle, BundleFile, BacktestReport, Decision, HistoryEntry, PolicyInput, ProgressListener } from '@grantline/policy-engine';
import { engineDigest } from '../decisions/decision-record.mapper';

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
}

export interface LogBacktestOptions {
  readonly examplesPerKind?: number;
  /** Called with (done, total) while the history is evaluated against the candidate. */
  readonly onProgress?: ProgressListener;
}

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

interface ReadLog {
  readonly decisions: Map<string, DecisionRecordedData>;
  readonly bundles: Map<string, readonly BundleFile[]>;
  readonly read: number;
}

const readLog = async (bus: MessageBus, registry: EventRegistry): Promise<ReadLog> => {
  const decisions = new Map<string, DecisionRecordedData>();
  const bundles = new Map<string, readonly BundleFile[]>();
  let read = 0;
  const topics = [...new Set([PolicyDecisionRecorded, PolicyBundleLoaded].map((def) => registry.latestOf(def.name).topic))];
  await bus.replay({
    topics,
    handler: async (event) => {
      if (isEvent(event, PolicyBundleLoaded)) bundles.set(event.data.digest, event.data.files);
      else if (isEvent(event, PolicyDecisionRecorded)) {
        read += 1;
        // Decisions are keyed by request, so a request's decisions sit in one partition, in order: the last one wins.
        decisions.set(event.data.requestId, event.data);
      }
    },
  });
  return { decisions, bundles, read };
};

/**
 * Replays the recorded decisions (with their input snapshots) and the announced bundles from the log,
 * re-runs every request's input through the candidate bundle, and reports what would change. The
 * recorded side is re-derived with the bundle that recorded it when that bundle is on the log, so
 * the comparison covers everything the engine decides, not only what the contract carries.
 */
export const backtestLog = async (
  bus: MessageBus,
  registry: EventRegistry,
  candidate: Bundle,
  options: LogBacktestOptions = {},
): Promise<LogBacktestResult> => {
  const log = await readLog(bus, registry);
  const compiled = new Map<string, Bundle | null>();
  const recordedBundle = (hex: string): Bundle | null => {
    if (!compiled.has(hex)) {
      const files = log.bundles.get(hex);
      let bundle: Bundle | null = null;
      try {
        bundle = files ? loadBundleFromFiles(files) : null;
      } catch {
        bundle = null;
      }
      compiled.set(hex, bundle);
    }
    return compiled.get(hex) ?? null;
  };

  const entries: HistoryEntry[] = [];
  let reproduced = 0;
  let fromRecord = 0;
  let refusals = 0;
  let invalidSnapshots = 0;
  for (const data of log.decisions.values()) {
    if (data.engine === 'builtin') {
      refusals += 1;
      continue;
    }
    const parsed = policyInputSchema.safeParse(data.inputSnapshot);
    if (!parsed.success) {
      invalidSnapshots += 1;
      continue;
    }
    const input = parsed.data;
    const bundle = recordedBundle(data.bundleDigest);
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
    entries.push({ requestId: data.requestId, input, recorded });
  }

  const report = await backtestAsync(entries, candidate, options.onProgress, {
    total: entries.length,
    ...(options.examplesPerKind !== undefined ? { examplesPerKind: options.examplesPerKind } : {}),
  });
  return { report, history: { read: log.read, requests: log.decisions.size, reproduced, fromRecord, refusals, invalidSnapshots } };
};
