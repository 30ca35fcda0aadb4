import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { decideOrWait } from './decide-or-wait';
import { decisionIdOf } from './decide-request';
import { PolicyState } from './policy-state';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));

const stateOf = (...events: Envelope[]): PolicyState => {
  const state = new PolicyState();
  for (const event of events) state.apply(event);
  return state;
};
const known = (): PolicyState => stateOf(...identityEvents(), catalogEvent());
const zoe = { kind: 'human', identityId: 'zoe', displayName: 'Zoe', status: 'active', managerId: 'bob', attributes: {} } as const;

describe('decideOrWait', () => {
  it('decides a request whose subject and entitlements are known', () => {
    const outcome = decideOrWait(requestEvent('w-1'), known(), shipped, registry, { waitedOut: false });
    expect(outcome).toMatchObject({ kind: 'decided', decision: { data: { engine: 'cel', effect: 'require_approval' } } });
  });

  it.each([
    ['an unknown subject', requestEvent('w-2', { subject: { id: 'zoe', kind: 'human' } }), known(), ['identity:zoe']],
    ['an unknown entitlement', requestEvent('w-3', { items: { entitlementIds: ['orders-read', 'new-thing'] } }), known(), ['entitlement:new-thing']],
    ['an unknown access package', requestEvent('w-4', { items: { accessPackageId: 'pkg-new' } }), known(), ['access-package:pkg-new']],
    ['no catalogue at all', requestEvent('w-5'), stateOf(...identityEvents()), ['entitlement:orders-read']],
    [
      'an unknown subject and entitlement',
      requestEvent('w-6', { subject: { id: 'zoe', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }),
      known(),
      ['entitlement:new-thing', 'identity:zoe'],
    ],
  ])('waits on %s, naming what it waits for', (_case, event, state, unresolved) => {
    expect(decideOrWait(event, state, shipped, registry, { waitedOut: false })).toEqual({ kind: 'waiting', unresolved });
  });

  it.each([
    ['an offboarded subject', requestEvent('w-7', { subject: { id: 'olga', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }), /"olga" is offboarded/],
    ['a suspended subject', requestEvent('w-8', { subject: { id: 'sam', kind: 'human' }, items: { entitlementIds: ['new-thing'] } }), /"sam" is suspended/],
    ['a subject of another kind', requestEvent('w-9', { subject: { id: 'ci-orders', kind: 'human' } }), /is a ci_pipeline/],
    ['a non-requestable entitlement', requestEvent('w-10', { subject: { id: 'zoe', kind: 'human' }, items: { entitlementIds: ['wiki-legacy'] } }), /not requestable/],
    ['an end before the request', requestEvent('w-11', { subject: { id: 'zoe', kind: 'human' }, endsAt: '2025-06-01T00:00:00.000Z' }), /is not after/],
  ])('denies %s at once, even if something else is unknown', (_case, event, reason) => {
    const state = stateOf(
      ...identityEvents(),
      ...identityEvents(registry, [{ kind: 'human', identityId: 'sam', displayName: 'Sam', status: 'suspended', attributes: {} }]),
      catalogEvent(),
    );
    const outcome = decideOrWait(event, state, shipped, registry, { waitedOut: false });
    if (outcome.kind !== 'decided') throw new Error(`expected a decision, it waits for ${outcome.unresolved.join(', ')}`);
    expect(outcome.decision.data).toMatchObject({ effect: 'deny', engine: 'builtin' });
    expect(outcome.decision.data.reasons.join('\n')).toMatch(reason);
  });

  it('once the wait is over, refuses with the unknown-subject reason', () => {
    const event = requestEvent('w-12', { subject: { id: 'zoe', kind: 'human' } });
    const outcome = decideOrWait(event, known(), shipped, registry, { waitedOut: true });
    expect(outcome).toMatchObject({
      kind: 'decided',
      decision: { id: decisionIdOf(event.id, shipped.digest), data: { effect: 'deny', reasons: ['unknown subject "zoe": no identity record'] } },
    });
  });

  it('gives the same decision id whether decided at once, after the identity arrived, or after the wait', () => {
    const event = requestEvent('w-13', { requesterId: 'zoe', subject: { id: 'zoe', kind: 'human' } });
    const later = stateOf(...identityEvents(), catalogEvent(), ...identityEvents(registry, [zoe]));
    const arrived = decideOrWait(event, later, shipped, registry, { waitedOut: false });
    const timedOut = decideOrWait(event, known(), shipped, registry, { waitedOut: true });
    if (arrived.kind !== 'decided' || timedOut.kind !== 'decided') throw new Error('expected two decisions');
    expect(arrived.decision.data.engine).toBe('cel');
    expect(arrived.decision.id).toBe(timedOut.decision.id);
  });
});
