import type { DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import type { Bundle } from '@grantline/policy-engine';
import { decideRequest } from './decide-request';
import { mapRequestToInput } from './request-input.mapper';
import type { PolicyState } from './policy-state';

export type WaitOutcome =
  | { readonly kind: 'decided'; readonly decision: Envelope<DecisionRecordedData> }
  /** Not decided: the request names what the state does not hold yet, and nothing else refuses it. */
  | { readonly kind: 'waiting'; readonly unresolved: readonly string[] };

/**
 * Decide now, or wait for the directory. A request is only held back when every reason to refuse it is
 * something not consumed yet (an unknown subject, entitlement or access package); a reason that stands
 * whatever arrives (an offboarded subject, a non-requestable entitlement) is decided at once. Once the
 * wait is over (`waitedOut`), the request is decided with what is known. Pure over its arguments, and
 * the decision is `decideRequest`'s, so its id does not depend on when it is taken.
 */
export const decideOrWait = (
  event: Envelope<RequestSubmittedData>,
  state: PolicyState,
  bundle: Bundle,
  registry: EventRegistry,
  { waitedOut }: { readonly waitedOut: boolean },
): WaitOutcome => {
  if (!waitedOut) {
    const mapped = mapRequestToInput(event, state);
    if (mapped.kind === 'refused' && !mapped.final && mapped.unresolved.length > 0) return { kind: 'waiting', unresolved: mapped.unresolved };
  }
  return { kind: 'decided', decision: decideRequest(event, state, bundle, registry) };
};
