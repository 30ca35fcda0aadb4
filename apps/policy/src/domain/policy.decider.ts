import { ContractViolationError, PolicyDecisionRecorded } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, Derivation, EventIdOf, Producer } from '@grantline/decider';
import { evaluate } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';
import { digestHex, toDecisionRecorded, toRefusalRecorded } from './decision-record.mapper';
import { mapRequestToInput } from './request-input.mapper';
import type { InputMapping } from './request-input.mapper';
import { evolvePolicyState, initialPolicyState } from './policy.state';
import type { PolicyState } from './policy.state';

export const POLICY_PRODUCER: Producer = { source: 'grantline/policy', actor: { kind: 'service', id: 'policy' } };

export type DecisionRecorded = Envelope<DecisionRecordedData>;

/** Decide this submitted request. `waitedOut`: its wait for the directory is over, so it is decided with what is known. */
export interface PolicyCommand {
  readonly request: Envelope<RequestSubmittedData>;
  readonly waitedOut: boolean;
}

/** What a decision takes from outside the domain: the bundle, the registry that validates, how ids are derived. */
export interface PolicyContext {
  readonly bundle: Bundle;
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
}

/**
 * Events are the facts the state is folded from (identities, catalogue, grants) and the decisions it records. A
 * recorded decision changes nothing a later decision reads: a redelivered request is decided again, identically.
 */
export interface PolicyDecider extends Decider<PolicyCommand, Envelope, PolicyState> {
  /** One recorded decision; none while the request waits for the directory (`awaitedBy` says for what). */
  decide(command: PolicyCommand, state: PolicyState): readonly DecisionRecorded[];
}

/** The same request event under the same bundle is the same decision, whichever path decides it and however often. */
export const decisionIdParts = (requestEventId: string, bundleDigest: string): string[] => ['decision', requestEventId, digestHex(bundleDigest)];

/**
 * Kafka orders events only within a partition, so a request can be seen before the identity or catalogue entry it
 * names. It is held back only when every reason to refuse it is such a fact not consumed yet; a reason that stands
 * whatever arrives (an offboarded subject, a non-requestable entitlement) is decided at once.
 */
const awaitedIn = (mapping: InputMapping): readonly string[] => (mapping.kind === 'refused' && !mapping.final ? mapping.unresolved : []);

/** What the request still waits for (`identity:<id>`, `entitlement:<id>`, `access-package:<id>`); empty when decidable. */
export const awaitedBy = (command: PolicyCommand, state: PolicyState): readonly string[] =>
  command.waitedOut ? [] : awaitedIn(mapRequestToInput(command.request, state));

const messageOf = (error: unknown): string => {
  if (error instanceof ContractViolationError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
};

/**
 * Request in, recorded decision out. Whatever the request names, the answer is a recorded decision: an unresolvable
 * request, an evaluation error or a decision the contract cannot carry is a deny with the reason, never a crash.
 */
export function makePolicyDecider({ bundle, registry, eventId }: PolicyContext): PolicyDecider {
  const events = new EventFactory(registry, POLICY_PRODUCER, eventId);

  const record = (request: PolicyCommand['request'], mapping: InputMapping, state: PolicyState): DecisionRecorded => {
    const idParts = decisionIdParts(request.id, bundle.digest);
    const catalogDigest = state.catalog?.digest;
    const context = { decisionId: eventId(...idParts), ...(catalogDigest !== undefined ? { catalogDigest } : {}) };
    // The request's own time, not the clock's: a redelivered or replayed request yields a byte-identical envelope.
    const derivation: Derivation = { cause: request, idParts, subject: request.data.requestId, correlationId: request.data.requestId };
    const refuse = (reasons: readonly string[], snapshot: Readonly<Record<string, unknown>>): DecisionRecorded =>
      events.derive(
        PolicyDecisionRecorded,
        toRefusalRecorded({ requestId: request.data.requestId, reasons, snapshot }, { ...context, bundleDigest: bundle.digest }),
        derivation,
      );

    if (mapping.kind === 'refused') return refuse(mapping.reasons, mapping.snapshot);
    let data: DecisionRecordedData;
    try {
      data = toDecisionRecorded(evaluate(bundle, mapping.input), context);
    } catch (error) {
      return refuse([`policy evaluation failed: ${messageOf(error)}`], { ...mapping.input });
    }
    try {
      return events.derive(PolicyDecisionRecorded, data, derivation);
    } catch (error) {
      // A decision the contract cannot carry is a bug to fix in the mapping, but it must still fail closed and say why.
      return refuse([`the decision (${data.effect}) could not be recorded: ${messageOf(error)}`], { ...mapping.input });
    }
  };

  return {
    initialState: initialPolicyState,
    evolve: evolvePolicyState,
    decide: (command, state) => {
      const mapping = mapRequestToInput(command.request, state);
      if (!command.waitedOut && awaitedIn(mapping).length > 0) return [];
      return [record(command.request, mapping, state)];
    },
  };
}
