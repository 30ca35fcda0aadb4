import { ContractViolationError, PolicyDecisionRecorded } from '@grantline/contracts';
import type { Actor, DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { evaluate } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';
import { digestHex, toDecisionRecorded, toRefusalRecorded } from './decision-record.mapper';
import { mapRequestToInput } from './request-input.mapper';
import type { PolicyState } from './policy-state';

export const POLICY_SOURCE = 'grantline/policy';
export const POLICY_ACTOR: Actor = { kind: 'service', id: 'policy' };

/** The same request event under the same bundle is the same decision, however often it is delivered. */
export const decisionIdOf = (requestEventId: string, bundleDigest: string): string =>
  deterministicEventId('decision', requestEventId, digestHex(bundleDigest));

const messageOf = (error: unknown): string => {
  if (error instanceof ContractViolationError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
};

/**
 * Request in, recorded decision out: pure over the request, the state and the bundle. Time is the
 * request's own time, so a redelivered request yields a byte-identical envelope. Whatever the request
 * names, the answer is a recorded decision; an unresolvable request is a deny with the reason.
 */
export const decideRequest = (
  event: Envelope<RequestSubmittedData>,
  state: PolicyState,
  bundle: Bundle,
  registry: EventRegistry,
): Envelope<DecisionRecordedData> => {
  const decisionId = decisionIdOf(event.id, bundle.digest);
  const catalogDigest = state.catalog?.digest;
  const context = { decisionId, ...(catalogDigest !== undefined ? { catalogDigest } : {}) };
  const meta = {
    id: decisionId,
    source: POLICY_SOURCE,
    time: event.time,
    subject: event.data.requestId,
    correlationid: event.data.requestId,
    causationid: event.id,
    actor: POLICY_ACTOR,
  };
  const refuse = (reasons: readonly string[], snapshot: Readonly<Record<string, unknown>>): Envelope<DecisionRecordedData> =>
    registry.encode(
      PolicyDecisionRecorded,
      toRefusalRecorded({ requestId: event.data.requestId, reasons, snapshot }, { ...context, bundleDigest: bundle.digest }),
      meta,
    );

  const mapped = mapRequestToInput(event, state);
  if (mapped.kind === 'refused') return refuse(mapped.reasons, mapped.snapshot);
  let data: DecisionRecordedData;
  try {
    data = toDecisionRecorded(evaluate(bundle, mapped.input), context);
  } catch (error) {
    return refuse([`policy evaluation failed: ${messageOf(error)}`], { ...mapped.input });
  }
  try {
    return registry.encode(PolicyDecisionRecorded, data, meta);
  } catch (error) {
    // A decision the contract cannot carry is a bug to fix in the mapping, but it must still fail closed and say why.
    return refuse([`the decision (${data.effect}) could not be recorded: ${messageOf(error)}`], { ...mapped.input });
  }
};
