// Reproduction of a recorded decision (`iga.policy.decision-recorded` v2): re-evaluate the recorded input with the
// bundle the record names and compare, field by field, with what was recorded. Pure: reading the record and the
// bundle from the log is the caller's (the CLI, the e2e harness).
import { PolicyBundleLoaded, PolicyDecisionRecorded, isEvent } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope } from '@grantline/contracts';
import { loadBundleFromFiles } from './bundle-compiler';
import type { Bundle } from './bundle.types';
import type { Decision } from './decision.types';
import { canonicalJson, evaluate } from './evaluate';

/** One field that differs: its name and the canonical JSON of each side (`undefined` when a side lacks it). */
export interface FieldDifference {
  readonly field: string;
  readonly recorded: string | undefined;
  readonly reproduced: string | undefined;
}

export type RecordedReproduction =
  /** Every field of the re-evaluation equals the record, byte for byte in canonical JSON. */
  | { readonly status: 'identical'; readonly decisionId: string; readonly fields: readonly string[] }
  /** The re-evaluation differs (or could not run): each differing field, or the reason it could not be compared. */
  | { readonly status: 'different'; readonly decisionId: string; readonly differences: readonly FieldDifference[]; readonly reason: string }
  /** Nothing to re-evaluate (a v1 record, a request refused before the engine ran) or no bundle to do it with. Never equal. */
  | { readonly status: 'not_reproducible'; readonly decisionId: string; readonly why: NotReproducibleWhy; readonly reason: string };

export type NotReproducibleWhy = 'recorded_before_v2' | 'refused_before_evaluation' | 'bundle_not_on_log';

const SHA256_PREFIX = 'sha256:';
const hexOf = (digest: string): string => (digest.startsWith(SHA256_PREFIX) ? digest.slice(SHA256_PREFIX.length) : digest);

/** The digest (bare hex) of the bundle a reproduction needs: the one the record names. */
export const bundleDigestOfRecord = (recorded: Pick<DecisionRecordedData, 'bundleDigest'>): string => hexOf(recorded.bundleDigest);

const sortedKeys = (...objects: Readonly<Record<string, unknown>>[]): string[] => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();

const compare = (
  prefix: string,
  recorded: Readonly<Record<string, unknown>>,
  reproduced: Readonly<Record<string, unknown>>,
): { fields: string[]; differences: FieldDifference[] } => {
  const fields: string[] = [];
  const differences: FieldDifference[] = [];
  for (const key of sortedKeys(recorded, reproduced)) {
    const field = `${prefix}${key}`;
    fields.push(field);
    const left = key in recorded ? canonicalJson(recorded[key]) : undefined;
    const right = key in reproduced ? canonicalJson(reproduced[key]) : undefined;
    if (left !== right) differences.push({ field, recorded: left, reproduced: right });
  }
  return { fields, differences };
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';

/** The answer for a record with no evaluation to repeat. */
const notEvaluated = (recorded: DecisionRecordedData, outcome: Exclude<DecisionRecordedData['evaluation']['outcome'], 'evaluated'>): RecordedReproduction => {
  const { decisionId } = recorded;
  switch (outcome) {
    case 'recorded_before_v2':
      return {
        status: 'not_reproducible',
        decisionId,
        why: 'recorded_before_v2',
        reason: 'not reproducible: recorded before v2 (v1 did not keep the whole evaluation)',
      };
    case 'refused_before_evaluation':
      return {
        status: 'not_reproducible',
        decisionId,
        why: 'refused_before_evaluation',
        reason: `not reproducible: refused before the engine evaluated it (${recorded.reasons.join('; ')})`,
      };
  }
};

/**
 * Re-evaluates the record's `inputSnapshot` with `bundle` and compares every field of the engine's output and
 * provenance (bundle name and version, engine version, the input itself) with the record's `evaluation`.
 */
export const reproduceRecorded = (recorded: DecisionRecordedData, bundle: Bundle): RecordedReproduction => {
  const { decisionId, evaluation } = recorded;
  if (evaluation.outcome !== 'evaluated') return notEvaluated(recorded, evaluation.outcome);
  const different = (reason: string, differences: FieldDifference[] = []): RecordedReproduction => ({ status: 'different', decisionId, differences, reason });
  if (hexOf(bundle.digest) !== bundleDigestOfRecord(recorded)) {
    return different(`decision was made by bundle ${bundleDigestOfRecord(recorded)}, not ${hexOf(bundle.digest)}`);
  }
  let decision: Decision;
  try {
    decision = evaluate(bundle, recorded.inputSnapshot);
  } catch (error) {
    return different(`the recorded input could not be re-evaluated: ${messageOf(error)}`);
  }
  const { provenance, ...output } = decision;
  const outputs = compare('', evaluation.decision, JSON.parse(canonicalJson(output)) as Record<string, unknown>);
  const provenances = compare(
    'provenance.',
    { bundleName: evaluation.bundleName, bundleVersion: evaluation.bundleVersion, engineVersion: evaluation.engineVersion, input: recorded.inputSnapshot },
    { bundleName: provenance.bundleName, bundleVersion: provenance.bundleVersion, engineVersion: provenance.engineVersion, input: provenance.input },
  );
  const differences = [...outputs.differences, ...provenances.differences];
  if (differences.length > 0) return different(`${differences.length} field(s) differ: ${differences.map((d) => d.field).join(', ')}`, differences);
  return { status: 'identical', decisionId, fields: [...outputs.fields, ...provenances.fields] };
};

/**
 * Reproduces the recorded decisions among `events` (a read of the decisions and policy-bundles topics), each with
 * the bundle the log holds under its digest; `decisionId` picks one (by decision id or event id). Each bundle is
 * compiled once. A bundle the log does not hold (or that no longer compiles) makes its decisions not reproducible.
 */
export const reproduceFromLog = (events: readonly Envelope[], decisionId?: string): RecordedReproduction[] => {
  const files = new Map<string, readonly { path: string; content: string }[]>();
  for (const event of events) if (isEvent(event, PolicyBundleLoaded)) files.set(event.data.digest, event.data.files);
  const compiled = new Map<string, Bundle | string>();
  const bundleFor = (digest: string): Bundle | string => {
    let bundle = compiled.get(digest);
    if (bundle === undefined) {
      const source = files.get(digest);
      try {
        bundle = source === undefined ? `the bundle ${digest} is not on the log` : loadBundleFromFiles(source);
      } catch (error) {
        bundle = `the bundle ${digest} on the log does not compile: ${messageOf(error)}`;
      }
      compiled.set(digest, bundle);
    }
    return bundle;
  };
  const results: RecordedReproduction[] = [];
  for (const event of events) {
    if (!isEvent(event, PolicyDecisionRecorded)) continue;
    if (decisionId !== undefined && event.data.decisionId !== decisionId && event.id !== decisionId) continue;
    if (event.data.evaluation.outcome !== 'evaluated') {
      results.push(notEvaluated(event.data, event.data.evaluation.outcome));
      continue;
    }
    const bundle = bundleFor(bundleDigestOfRecord(event.data));
    results.push(
      typeof bundle === 'string'
        ? { status: 'not_reproducible', decisionId: event.data.decisionId, why: 'bundle_not_on_log', reason: `not reproducible: ${bundle}` }
        : reproduceRecorded(event.data, bundle),
    );
  }
  return results;
};
