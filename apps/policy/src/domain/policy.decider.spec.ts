import { resolve } from 'node:path';
import { IdentityOffboarded, IdentityOwnerChanged, PolicyDecisionRecorded, isEvent, registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData } from '@grantline/contracts';
import type { Decider } from '@grantline/decider';
import { evaluate, loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { CATALOG_DIGEST, catalogEvent, grantEvents, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { digestHex } from './decision-record.mapper';
import { awaitedBy, makePolicyDecider } from './policy.decider';
import type { PolicyCommand } from './policy.decider';
import type { PolicyState } from './policy.state';

const POLICIES = resolve(__dirname, '../../../../policies');
const shipped = loadBundleFromDirectory(POLICIES);

const deciderWith = (bundle: Bundle): Decider<PolicyCommand, Envelope, PolicyState> => makePolicyDecider({ bundle, registry, eventId: specEventId });
const given = deciderSpec(deciderWith(shipped));

/** The population and the catalogue, as their topics hold them. */
const known = (): Envelope[] => [...identityEvents(), catalogEvent()];
const decide = (request: Envelope<RequestSubmittedData>): PolicyCommand => ({ request, waitedOut: false });
const waitedOut = (request: Envelope<RequestSubmittedData>): PolicyCommand => ({ request, waitedOut: true });

/** The one decision decided, typed. */
const theDecision = (events: readonly Envelope[]): Envelope<DecisionRecordedData> => {
  expect(events).toHaveLength(1);
  const [decision] = events;
  if (decision === undefined || !isEvent(decision, PolicyDecisionRecorded)) throw new Error('expected one recorded decision');
  return decision;
};

describe('the policy decider: a submitted request becomes one recorded decision', () => {
  it('records the engine decision with its provenance, caused by the request', () => {
    const request = requestEvent('req-1');
    // Given the population and catalogue, when Alice's request for high-sensitivity production reads arrives
    given(known())
      .when(decide(request))
      .thenAssert((events) => {
        const decision = theDecision(events);
        // Then it is a valid decision-recorded envelope that routes to the manager, then the resource owner
        expect(registry.decode(decision)).toEqual(decision);
        expect(decision).toMatchObject({
          type: PolicyDecisionRecorded.type,
          id: specEventId('decision', request.id, digestHex(shipped.digest)),
          causationid: request.id,
          correlationid: 'req-1',
          subject: 'req-1',
          actor: { kind: 'service', id: 'policy' },
          time: request.time,
        });
        expect(decision.data).toMatchObject({
          decisionId: decision.id,
          requestId: 'req-1',
          effect: 'require_approval',
          engine: 'cel',
          bundleDigest: digestHex(shipped.digest),
          catalogDigest: CATALOG_DIGEST,
          matchedRules: ['human-manager-approval', 'resource-owner-for-high'],
          constraints: { maxDuration: 'P7D', recertificationEvery: 'P30D', breakGlassAllowed: false },
        });
        expect(decision.data.route?.stages).toEqual([
          { id: 'manager', quorum: 1, approvers: [{ resolver: 'manager', resolvedIdentityIds: ['bob'] }] },
          { id: 'resource_owner', quorum: 1, approvers: [{ resolver: 'resource_owner', resolvedIdentityIds: ['dave'] }] },
        ]);
        expect(decision.data.risk.factors.map((factor) => factor.id)).toEqual(expect.arrayContaining(['production', 'high-sensitivity']));
        expect(decision.data.reasons.join('\n')).toMatch(/orders-db is high-sensitivity: its owner dave approves/);
      });
  });

  it('records an input snapshot that reproduces the decision with the same bundle', () => {
    given(known())
      .when(decide(requestEvent('req-2')))
      .thenAssert((events) => {
        const decision = theDecision(events);
        const rerun = evaluate(shipped, decision.data.inputSnapshot);
        expect(rerun.effect).toBe(decision.data.effect);
        expect(rerun.matchedRules).toEqual(decision.data.matchedRules);
        expect(digestHex(rerun.bundleDigest)).toBe(decision.data.bundleDigest);
      });
  });

  it('gives the same request delivered twice the same decision, id included', () => {
    const request = requestEvent('req-3');
    given(known())
      .when(decide(request))
      .thenAssert((first, stateAfter) => {
        // The decision it recorded changes nothing the redelivery is decided on.
        given.state(stateAfter).when(decide(request)).then(first);
      });
  });

  it('gives the same request under another bundle another decision id', () => {
    const files = readBundleDirectory(POLICIES).map((file) =>
      file.path.endsWith('bundle.yaml') ? { ...file, content: file.content.replace('version: 2025.1.0', 'version: 2025.2.0') } : file,
    );
    const request = requestEvent('req-4');
    given(known())
      .when(decide(request))
      .thenAssert((byShipped) => {
        deciderSpec(deciderWith(loadBundleFromFiles(files)))(known())
          .when(decide(request))
          .thenAssert((byOther) => expect(theDecision(byOther).id).not.toBe(theDecision(byShipped).id));
      });
  });

  it('denies, with the reason, a request naming an entitlement the catalogue does not have, once the wait is over', () => {
    given(known())
      .when(waitedOut(requestEvent('req-5', { items: { entitlementIds: ['no-such-thing'] } })))
      .thenAssert((events) => {
        const decision = theDecision(events);
        expect(registry.decode(decision)).toEqual(decision);
        expect(decision.data).toMatchObject({ effect: 'deny', engine: 'builtin', matchedRules: [], bundleDigest: digestHex(shipped.digest) });
        expect(decision.data.reasons).toEqual(['unknown entitlement "no-such-thing": it is not in the published catalogue']);
        expect(decision.data.route).toBeUndefined();
      });
  });

  it('routes privileged production access by a machine to its owner and security', () => {
    given(known())
      .when(decide(requestEvent('req-6', { subject: { id: 'ci-orders', kind: 'ci_pipeline' }, items: { entitlementIds: ['orders-write'] }, duration: 'PT8H' })))
      .thenAssert((events) => {
        const decision = theDecision(events);
        expect(decision.data.effect).toBe('require_approval');
        expect(decision.data.route?.stages.map((stage) => stage.id)).toEqual(['nhi_owner', 'security']);
        expect(decision.data.route?.stages[0]?.approvers).toEqual([{ resolver: 'nhi_owner', resolvedIdentityIds: ['alice'] }]);
        expect(decision.data.constraints).toMatchObject({ maxDuration: 'P1D', credentialType: 'short_lived_token' });
      });
  });

  it('denies a request that would complete a toxic combination with a grant the subject holds', () => {
    // Given Alice already holds payments-write, when she asks for payments-approver
    given([...known(), ...grantEvents({ requestId: 'old-1', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' })])
      .when(decide(requestEvent('req-7', { items: { entitlementIds: ['payments-approver'] } })))
      .thenAssert((events) => {
        // Then separation of duties denies it and says which combination
        const decision = theDecision(events);
        expect(decision.data.effect).toBe('deny');
        expect(decision.data.sodConflicts).toEqual([
          expect.objectContaining({ policyId: 'payments-maker-checker', entitlements: expect.arrayContaining(['payments-write', 'payments-approver']) }),
        ]);
      });
  });

  it('denies a duration above what the entitlement allows (the shipped bundle denies rather than clamps)', () => {
    given(known())
      .when(decide(requestEvent('req-8', { duration: 'P60D' })))
      .thenMatches([{ data: { effect: 'deny', engine: 'cel' } }]);
  });
});

describe('the policy decider: wait until known, then decide', () => {
  const zoe = { kind: 'human', identityId: 'zoe', displayName: 'Zoe', status: 'active', managerId: 'bob', attributes: {} } as const;

  it('decides a request whose subject and entitlements are known', () => {
    given(known())
      .when(decide(requestEvent('w-1')))
      .thenMatches([{ data: { engine: 'cel', effect: 'require_approval' } }]);
  });

  it.each([
    ['an unknown subject', requestEvent('w-2', { subject: { id: 'zoe', kind: 'human' } }), known(), ['identity:zoe']],
    ['an unknown entitlement', requestEvent('w-3', { items: { entitlementIds: ['orders-read', 'new-thing'] } }), known(), ['entitlement:new-thing']],
    ['an unknown access package', requestEvent('w-4', { items: { accessPackageId: 'pkg-new' } }), known(), ['access-package:pkg-new']],
    ['no catalogue at all', requestEvent('w-5'), identityEvents(), ['entitlement:orders-read']],
    [
      'an unknown subject and entitlement',
      requestEvent('w-6', { subject: { id: 'zoe', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }),
      known(),
      ['entitlement:new-thing', 'identity:zoe'],
    ],
  ])('waits on %s, naming what it waits for', (_case, request, facts, unresolved) => {
    given(facts)
      .when(decide(request))
      .thenAssert((events, state) => {
        expect(events).toEqual([]);
        expect(awaitedBy(decide(request), state)).toEqual(unresolved);
      });
  });

  it.each([
    [
      'an offboarded subject',
      requestEvent('w-7', { subject: { id: 'olga', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }),
      /"olga" is offboarded/,
    ],
    ['a suspended subject', requestEvent('w-8', { subject: { id: 'sam', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }), /"sam" is suspended/],
    ['a subject of another kind', requestEvent('w-9', { subject: { id: 'ci-orders', kind: 'human' } }), /is a ci_pipeline/],
    [
      'a non-requestable entitlement',
      requestEvent('w-10', { subject: { id: 'zoe', kind: 'human' }, items: { entitlementIds: ['wiki-legacy'] } }),
      /not requestable/,
    ],
    ['an end before the request', requestEvent('w-11', { subject: { id: 'zoe', kind: 'human' }, endsAt: '2025-06-01T00:00:00.000Z' }), /is not after/],
  ])('denies %s at once, even if something else is unknown', (_case, request, reason) => {
    const sam = { kind: 'human', identityId: 'sam', displayName: 'Sam', status: 'suspended', attributes: {} } as const;
    given([...identityEvents(), ...identityEvents(registry, [sam]), catalogEvent()])
      .when(decide(request))
      .thenAssert((events, state) => {
        const decision = theDecision(events);
        expect(decision.data).toMatchObject({ effect: 'deny', engine: 'builtin' });
        expect(decision.data.reasons.join('\n')).toMatch(reason);
        expect(awaitedBy(decide(request), state)).toEqual([]);
      });
  });

  it('once the wait is over, refuses with the unknown-subject reason', () => {
    const request = requestEvent('w-12', { subject: { id: 'zoe', kind: 'human' } });
    given(known())
      .when(waitedOut(request))
      .thenMatches([
        {
          id: specEventId('decision', request.id, digestHex(shipped.digest)),
          data: { effect: 'deny', reasons: ['unknown subject "zoe": no identity record'] },
        },
      ]);
  });

  it('gives the same decision id whether decided at once, after the identity arrived, or after the wait', () => {
    const request = requestEvent('w-13', { requesterId: 'zoe', subject: { id: 'zoe', kind: 'human' } });
    given([...known(), ...identityEvents(registry, [zoe])])
      .when(decide(request))
      .thenAssert((arrived) => {
        expect(theDecision(arrived).data.engine).toBe('cel');
        given(known())
          .when(waitedOut(request))
          .thenAssert((timedOut) => expect(theDecision(timedOut).id).toBe(theDecision(arrived).id));
      });
  });
});

describe('the policy decider: a machine identity whose owner left is frozen (OWASP NHI1)', () => {
  const ciRequest = (requestId: string): PolicyCommand =>
    decide(
      requestEvent(requestId, {
        requesterId: 'bob',
        subject: { id: 'ci-orders', kind: 'ci_pipeline' },
        items: { entitlementIds: ['orders-write'] },
        duration: 'PT8H',
      }),
    );
  const ownerOffboarded = (): Envelope =>
    registry.encode(
      IdentityOffboarded,
      { identityId: 'alice', kind: 'human', effectiveAt: '2025-06-02T09:00:00.000Z', reason: 'leaver', ownedIdentityIds: ['ci-orders'] },
      {
        id: 'offboarded-alice',
        source: 'grantline/spec',
        time: '2025-06-02T09:00:00.000Z',
        subject: 'alice',
        correlationid: 'alice',
        actor: { kind: 'user', id: 'hr' },
      },
    );
  const ownerChanged = (newOwnerId: string): Envelope =>
    registry.encode(
      IdentityOwnerChanged,
      { identityId: 'ci-orders', previousOwnerId: 'alice', newOwnerId, reason: 'owner_offboarded', changedBy: newOwnerId },
      {
        id: `owner-changed-${newOwnerId}`,
        source: 'grantline/spec',
        time: '2025-06-02T09:30:00.000Z',
        subject: 'ci-orders',
        correlationid: 'ci-orders',
        actor: { kind: 'user', id: newOwnerId },
      },
    );

  it('denies a new request for the NHI while its owner of record is offboarded, and says so', () => {
    // Given ci-orders' owner Alice was offboarded, when a request for ci-orders arrives
    given([...known(), ownerOffboarded()])
      .when(ciRequest('frozen-1'))
      .thenAssert((events) => {
        // Then it is denied at once (no waiting: nothing that arrives later but an owner change can lift it), naming the freeze
        const decision = theDecision(events);
        expect(decision.data.effect).toBe('deny');
        expect(decision.data.reasons).toEqual([
          'machine identity "ci-orders" is frozen: its owner "alice" is offboarded and nobody has accepted ownership yet',
        ]);
      });
  });

  it('decides normally again once someone active has taken ownership', () => {
    // Given Alice left and Bob accepted ownership of ci-orders, when a request for ci-orders arrives
    given([...known(), ownerOffboarded(), ownerChanged('bob')])
      .when(ciRequest('frozen-2'))
      .thenAssert((events) => {
        // Then the engine decides it, routed to its new owner
        const decision = theDecision(events);
        expect(decision.data.effect).toBe('require_approval');
        expect(decision.data.route?.stages[0]?.approvers).toEqual([{ resolver: 'nhi_owner', resolvedIdentityIds: ['bob'] }]);
      });
  });
});
