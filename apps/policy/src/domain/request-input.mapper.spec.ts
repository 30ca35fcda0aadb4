import type { Envelope } from '@grantline/contracts';
import { parsePolicyInput } from '@grantline/policy-engine';
import { SCENARIO_TIME, catalogEvent, grantEvents, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { evolvePolicyState, initialPolicyState } from './policy.state';
import type { PolicyState } from './policy.state';
import { mapRequestToInput } from './request-input.mapper';
import type { InputMapping, MappedInput, RefusedInput } from './request-input.mapper';

const stateOf = (...events: Envelope[]): PolicyState => events.reduce<PolicyState>(evolvePolicyState, initialPolicyState());
const known = (): PolicyState => stateOf(...identityEvents(), catalogEvent());

function expectInput(mapping: InputMapping): MappedInput['input'] {
  if (mapping.kind !== 'input') throw new Error(`expected an engine input, got a refusal: ${mapping.reasons.join('; ')}`);
  return mapping.input;
}
function expectRefusal(mapping: InputMapping): RefusedInput {
  if (mapping.kind !== 'refused') throw new Error('expected a refusal, got an engine input');
  return mapping;
}

describe('request -> engine input', () => {
  it('maps the request, the subject of record, the requester and each catalogue entitlement', () => {
    // Given the identities and the catalogue
    const state = known();
    // When Alice asks for orders-read with a ticket
    const input = expectInput(mapRequestToInput(requestEvent('r-1', { ticket: { system: 'jira', id: 'OPS-7' } }), state));
    // Then the input is valid engine input, timed by the request event, with facts from the state
    expect(parsePolicyInput(input)).toEqual(input);
    expect(input.now).toBe(SCENARIO_TIME);
    expect(input.request).toEqual({
      id: 'r-1',
      package: null,
      duration: 'P7D',
      justification: 'quarterly revenue reconciliation',
      ticket: 'OPS-7',
      emergency: false,
      source: 'api',
    });
    expect(input.subject).toEqual({ id: 'alice', kind: 'human', team: 'orders', manager: 'bob', ownerOfRecord: null, attributes: {} });
    expect(input.requester).toMatchObject({ id: 'alice', kind: 'human' });
    expect(input.entitlements).toEqual([
      expect.objectContaining({
        id: 'orders-read',
        system: 'orders-db',
        sensitivity: 'high',
        environment: 'prod',
        owner: 'dave',
        privilege: 'read',
        maxDuration: 'P30D',
      }),
    ]);
  });

  it('gives an entitlement the strongest privilege it confers', () => {
    const input = expectInput(mapRequestToInput(requestEvent('r-2', { items: { entitlementIds: ['payments-write'] } }), known()));
    expect(input.entitlements[0]?.privilege).toBe('write');
  });

  it('expands an access package into its entitlements and keeps the package id', () => {
    const input = expectInput(mapRequestToInput(requestEvent('r-3', { items: { accessPackageId: 'pkg-wiki' } }), known()));
    expect(input.request.package).toBe('pkg-wiki');
    expect(input.entitlements.map((e) => e.id)).toEqual(['wiki-read']);
  });

  it('turns an absolute end into the duration from the request time', () => {
    const input = expectInput(mapRequestToInput(requestEvent('r-4', { endsAt: '2025-06-02T14:00:00.000Z' }), known()));
    expect(input.request.duration).toBe('PT14400S');
  });

  it('uses the incident of a break-glass request as its ticket', () => {
    const event = requestEvent('r-5', { emergency: { breakGlass: true, incidentRef: { system: 'servicenow', id: 'INC-42' } } });
    const input = expectInput(mapRequestToInput(event, known()));
    expect(input.request).toMatchObject({ emergency: true, ticket: 'INC-42' });
  });

  it('gives a machine identity its owner of record, not a manager', () => {
    const event = requestEvent('r-6', { subject: { id: 'ci-orders', kind: 'ci_pipeline' }, items: { entitlementIds: ['orders-write'] } });
    const input = expectInput(mapRequestToInput(event, known()));
    expect(input.subject).toMatchObject({ id: 'ci-orders', kind: 'ci_pipeline', manager: null, ownerOfRecord: 'alice' });
  });

  it('includes current and pending grants of the subject, but not ended or other identities ones', () => {
    // Given Alice holds payments-write, has orders-write pending, had wiki-read until yesterday, and Bob holds payments-approver
    const state = stateOf(
      ...identityEvents(),
      catalogEvent(),
      ...grantEvents({ requestId: 'old-1', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }),
      ...grantEvents({ requestId: 'old-2', beneficiaryId: 'alice', entitlementId: 'orders-write', systemId: 'orders-db', active: false }),
      ...grantEvents({ requestId: 'old-3', beneficiaryId: 'alice', entitlementId: 'wiki-read', systemId: 'wiki', expiresAt: '2025-06-01T10:00:00.000Z' }),
      ...grantEvents({ requestId: 'old-4', beneficiaryId: 'bob', entitlementId: 'payments-approver', systemId: 'payments' }),
    );
    // When Alice requests something
    const input = expectInput(mapRequestToInput(requestEvent('r-7'), state));
    // Then only her live grants are in the input
    expect(input.grants).toEqual([
      { entitlementId: 'payments-write', system: 'payments', privilege: 'write', environment: 'prod', status: 'active', expiresAt: '2025-07-01T00:00:00.000Z' },
      { entitlementId: 'orders-write', system: 'orders-db', privilege: 'write', environment: 'prod', status: 'pending', expiresAt: '2025-07-01T00:00:00.000Z' },
    ]);
  });

  it.each([
    ['an unknown entitlement', requestEvent('r-8', { items: { entitlementIds: ['orders-read', 'no-such-thing'] } }), /unknown entitlement "no-such-thing"/],
    ['an unknown access package', requestEvent('r-9', { items: { accessPackageId: 'pkg-nope' } }), /unknown access package "pkg-nope"/],
    ['a non-requestable entitlement', requestEvent('r-10', { items: { entitlementIds: ['wiki-legacy'] } }), /"wiki-legacy" is not requestable/],
    ['an unknown subject', requestEvent('r-11', { subject: { id: 'mallory', kind: 'human' } }), /unknown subject "mallory"/],
    ['an offboarded subject', requestEvent('r-12', { subject: { id: 'olga', kind: 'human' } }), /"olga" is offboarded/],
    [
      'a subject of another kind than recorded',
      requestEvent('r-13', { subject: { id: 'ci-orders', kind: 'human' } }),
      /is a ci_pipeline, but the request says human/,
    ],
    ['an end before the request', requestEvent('r-14', { endsAt: '2025-06-01T00:00:00.000Z' }), /is not after the request time/],
  ])('refuses %s with a reason naming it', (_case, event, reason) => {
    const refusal = expectRefusal(mapRequestToInput(event, known()));
    expect(refusal.reasons.join('\n')).toMatch(reason);
    expect(refusal.snapshot).toMatchObject({ now: SCENARIO_TIME, request: expect.objectContaining({ requestId: event.data.requestId }) });
  });

  it('refuses every entitlement when no catalogue has been published', () => {
    const refusal = expectRefusal(mapRequestToInput(requestEvent('r-15'), stateOf(...identityEvents())));
    expect(refusal.reasons).toEqual(['unknown entitlement "orders-read": it is not in the published catalogue']);
  });
});
