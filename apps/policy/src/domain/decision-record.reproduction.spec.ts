import { resolve } from 'node:path';
import { PolicyDecisionRecorded, isEvent, registry } from '@grantline/contracts';
import type { Envelope, RequestSubmittedData } from '@grantline/contracts';
import { loadBundleFromDirectory, reproduceRecorded } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { catalogEvent, grantEvents, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { makePolicyDecider } from './policy.decider';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const given = deciderSpec(makePolicyDecider({ bundle: shipped, registry, eventId: specEventId }));
const known = (): Envelope[] => [...identityEvents(), catalogEvent()];
const decide = (request: Envelope<RequestSubmittedData>) => ({ request, waitedOut: true });

/** The recorded decision as a consumer reads it: through the wire and the registry. */
const readBack = (events: readonly Envelope[]) => {
  expect(events).toHaveLength(1);
  const decoded = registry.decode(JSON.parse(JSON.stringify(events[0])));
  if (!isEvent(decoded, PolicyDecisionRecorded)) throw new Error('expected a recorded decision');
  return decoded.data;
};

describe('a recorded decision (v2) carries the whole evaluation, so it reproduces bit for bit from its record', () => {
  it.each([
    ['routed to the manager and the owner', known(), requestEvent('rep-1')],
    [
      'routed to a machine owner and security, with constraints',
      known(),
      requestEvent('rep-2', { subject: { id: 'ci-orders', kind: 'ci_pipeline' }, items: { entitlementIds: ['orders-write'] }, duration: 'PT8H' }),
    ],
    [
      'denied by a toxic combination with a held grant',
      [...known(), ...grantEvents({ requestId: 'old-1', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' })],
      requestEvent('rep-3', { items: { entitlementIds: ['payments-approver'] } }),
    ],
    ['denied for a duration above the maximum', known(), requestEvent('rep-4', { duration: 'P90D' })],
  ])('Given a request %s, When decided and read back from the log, Then re-evaluating its record gives every field again', (_case, facts, request) => {
    given(facts)
      .when(decide(request))
      .thenAssert((events) => {
        const recorded = readBack(events);
        expect(recorded.evaluation).toMatchObject({ outcome: 'evaluated', bundleName: shipped.name, bundleVersion: shipped.version });

        expect(reproduceRecorded(recorded, shipped)).toMatchObject({ status: 'identical' });
      });
  });

  it('Given a request refused before evaluation (unknown subject), When read back, Then it says so and is not reported as reproduced', () => {
    given(known())
      .when(decide(requestEvent('rep-5', { subject: { id: 'ghost', kind: 'human' } })))
      .thenAssert((events) => {
        const recorded = readBack(events);
        expect(recorded.evaluation).toEqual({ outcome: 'refused_before_evaluation' });
        expect(reproduceRecorded(recorded, shipped)).toMatchObject({ status: 'not_reproducible', why: 'refused_before_evaluation' });
      });
  });
});
