import { resolve } from 'node:path';
import { PolicyDecisionRecorded, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { evaluate, loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import { CATALOG_DIGEST, catalogEvent, grantEvents, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { decideRequest } from './decide-request';
import { digestHex } from './decision-record.mapper';
import { PolicyState } from './policy-state';

const POLICIES = resolve(__dirname, '../../../../policies');
const shipped = loadBundleFromDirectory(POLICIES);

const given = (...events: Envelope[]): PolicyState => {
  const state = new PolicyState();
  for (const event of [...identityEvents(), catalogEvent(), ...events]) state.apply(event);
  return state;
};

describe('decideRequest: a submitted request becomes one recorded decision', () => {
  it('records the engine decision with its provenance, caused by the request', () => {
    // Given the population and catalogue
    const state = given();
    const request = requestEvent('req-1');
    // When Alice's request for high-sensitivity production reads arrives
    const decision = decideRequest(request, state, shipped, registry);
    // Then it is a valid decision-recorded envelope that routes to the manager, then the resource owner
    expect(registry.decode(decision)).toEqual(decision);
    expect(decision).toMatchObject({
      type: PolicyDecisionRecorded.type,
      id: deterministicEventId('decision', request.id, digestHex(shipped.digest)),
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

  it('records an input snapshot that reproduces the decision with the same bundle', () => {
    const decision = decideRequest(requestEvent('req-2'), given(), shipped, registry);
    const rerun = evaluate(shipped, decision.data.inputSnapshot);
    expect(rerun.effect).toBe(decision.data.effect);
    expect(rerun.matchedRules).toEqual(decision.data.matchedRules);
    expect(digestHex(rerun.bundleDigest)).toBe(decision.data.bundleDigest);
  });

  it('gives the same request delivered twice the same decision, id included', () => {
    const state = given();
    const request = requestEvent('req-3');
    const first = decideRequest(request, state, shipped, registry);
    const second = decideRequest(request, state, shipped, registry);
    expect(second).toEqual(first);
  });

  it('gives the same request under another bundle another decision id', () => {
    const files = readBundleDirectory(POLICIES).map((file) =>
      file.path.endsWith('bundle.yaml') ? { ...file, content: file.content.replace('version: 2025.1.0', 'version: 2025.2.0') } : file,
    );
    const other = loadBundleFromFiles(files);
    const request = requestEvent('req-4');
    expect(decideRequest(request, given(), other, registry).id).not.toBe(decideRequest(request, given(), shipped, registry).id);
  });

  it('denies, with the reason, a request naming an entitlement the catalogue does not have', () => {
    const decision = decideRequest(requestEvent('req-5', { items: { entitlementIds: ['no-such-thing'] } }), given(), shipped, registry);
    expect(registry.decode(decision)).toEqual(decision);
    expect(decision.data).toMatchObject({ effect: 'deny', engine: 'builtin', matchedRules: [], bundleDigest: digestHex(shipped.digest) });
    expect(decision.data.reasons).toEqual(['unknown entitlement "no-such-thing": it is not in the published catalogue']);
    expect(decision.data.route).toBeUndefined();
  });

  it('routes privileged production access by a machine to its owner and security', () => {
    const request = requestEvent('req-6', { subject: { id: 'ci-orders', kind: 'ci_pipeline' }, items: { entitlementIds: ['orders-write'] }, duration: 'PT8H' });
    const decision = decideRequest(request, given(), shipped, registry);
    expect(decision.data.effect).toBe('require_approval');
    expect(decision.data.route?.stages.map((stage) => stage.id)).toEqual(['nhi_owner', 'security']);
    expect(decision.data.route?.stages[0]?.approvers).toEqual([{ resolver: 'nhi_owner', resolvedIdentityIds: ['alice'] }]);
    expect(decision.data.constraints).toMatchObject({ maxDuration: 'P1D', credentialType: 'short_lived_token' });
  });

  it('denies a request that would complete a toxic combination with a grant the subject holds', () => {
    // Given Alice already holds payments-write
    const state = given(...grantEvents({ requestId: 'old-1', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }));
    // When she asks for payments-approver
    const decision = decideRequest(requestEvent('req-7', { items: { entitlementIds: ['payments-approver'] } }), state, shipped, registry);
    // Then separation of duties denies it and says which combination
    expect(decision.data.effect).toBe('deny');
    expect(decision.data.sodConflicts).toEqual([
      expect.objectContaining({ policyId: 'payments-maker-checker', entitlements: expect.arrayContaining(['payments-write', 'payments-approver']) }),
    ]);
  });

  it('denies a duration above what the entitlement allows (the shipped bundle denies rather than clamps)', () => {
    const decision = decideRequest(requestEvent('req-8', { duration: 'P60D' }), given(), shipped, registry);
    expect(decision.data.effect).toBe('deny');
    expect(decision.data.engine).toBe('cel');
  });
});
