import { resolve } from 'node:path';
import {
  GrantDriftDetected,
  GrantReconciliationCompleted,
  GrantRevoked,
  PolicySodScanCompleted,
  PolicySodViolationDetected,
  registry,
} from '@grantline/contracts';
import type { DriftDetectedData, Envelope, SodViolationDetectedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { IDENTITIES, catalogEvent, grantEvents, identityEvents } from '../testing/policy-scenario.fixtures';
import { digestHex } from './decision-record.mapper';
import { assembleHoldings, identityOfAccount, makeSodScanDecider, violationIdOf } from './detective-sod';
import type { SodScanCommand } from './detective-sod';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const decider = makeSodScanDecider({ bundle: shipped, registry, eventId: specEventId });
const given = deciderSpec(decider);

const meta = (id: string, subject: string, time: string): Parameters<typeof registry.encode>[2] => ({
  id,
  source: 'grantline/policy-spec',
  time,
  subject,
  correlationid: subject,
  actor: { kind: 'service', id: 'provisioning' },
});

/** Access found on the payments target without a grant, in the reconciliation observed at `observedAt`. */
const drift = (account: string, externalRef: string, observedAt: string, kind: DriftDetectedData['kind'] = 'unexpected_in_target'): Envelope =>
  registry.encode(
    GrantDriftDetected,
    { connectorId: 'payments', systemId: 'payments', kind, targetAccount: account, externalRef, detectedAt: observedAt, remediation: 'report_only' },
    meta(`drift-${account}-${externalRef}-${observedAt}`, 'rpt', observedAt),
  );
const reconciled = (observedAt: string): Envelope =>
  registry.encode(
    GrantReconciliationCompleted,
    {
      reportId: `rpt-${observedAt}`,
      connectorId: 'payments',
      observedAt,
      assignments: 1,
      grantsExpected: 0,
      drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
    },
    meta(`reconciled-${observedAt}`, `rpt-${observedAt}`, observedAt),
  );

const T1 = '2025-06-02T11:00:00.000Z';
const T2 = '2025-06-02T12:00:00.000Z';
const scan = (scanId = 'scan-1'): SodScanCommand => ({ scanId, trigger: 'on_demand', requestedBy: 'sec-sam', startedAt: T2, completedAt: T2 });
const known = (): Envelope[] => [...identityEvents(), catalogEvent()];
/** Alice is the maker through Grantline (an active grant on payments-write). */
const alicesMakerGrant = (): Envelope[] =>
  grantEvents({ requestId: 'req-maker', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' });

describe('detective separation of duties: what each identity holds, and the toxic combinations in it', () => {
  it('Given a granted maker and the checker role added by hand on the target, When scanned, Then one violation names both, the grant and the unmanaged entitlement', () => {
    given([...known(), ...alicesMakerGrant(), reconciled(T1), drift('alice', 'payments_checker', T1)])
      .when(scan())
      .thenAssert((events) => {
        expect(events.map((event) => event.type)).toEqual([PolicySodViolationDetected.type, PolicySodScanCompleted.type]);
        const violation = events[0]!.data as SodViolationDetectedData;
        expect(violation).toEqual({
          violationId: violationIdOf('alice', 'payments-maker-checker', [['payments-write'], ['payments-approver']]),
          scanId: 'scan-1',
          identityId: 'alice',
          combinationId: 'payments-maker-checker',
          description: 'one identity must not both create and approve payments',
          sides: [['payments-write'], ['payments-approver']],
          grantIds: ['req-maker:payments-write'],
          unmanagedEntitlementIds: ['payments-approver'],
          trigger: 'on_demand',
          bundleDigest: digestHex(shipped.digest),
          detectedAt: T2,
        });
        expect(events[0]).toMatchObject({ subject: 'alice', correlationid: violation.violationId, actor: { kind: 'service', id: 'policy' } });
        expect(events[1]!.data).toMatchObject({ scanId: 'scan-1', requestedBy: 'sec-sam', violations: 1, identitiesScanned: 1 });
      });
  });

  it('Given the same holdings, When scanned twice, Then the violation id is the same in both scans (one review per violation, not per scan)', () => {
    const state = foldEvents(decider, [...known(), ...alicesMakerGrant(), drift('alice', 'payments_checker', T1)]);
    const first = decider.decide(scan('scan-1'), state)[0]!.data as SodViolationDetectedData;
    const second = decider.decide(scan('scan-2'), state)[0]!.data as SodViolationDetectedData;

    expect(second.violationId).toBe(first.violationId);
    expect(second.scanId).not.toBe(first.scanId);
  });

  it('Given a later reconciliation that no longer reports the hand-made access, When scanned, Then no violation, only the summary', () => {
    given([...known(), ...alicesMakerGrant(), reconciled(T1), drift('alice', 'payments_checker', T1), reconciled(T2)])
      .when(scan())
      .thenMatches([{ type: PolicySodScanCompleted.type, data: { violations: 0, identitiesScanned: 1 } }]);
  });

  it('Given the grant was revoked, When scanned, Then the hand-made access alone is no toxic combination', () => {
    const revoked = registry.encode(GrantRevoked, { grantId: 'req-maker:payments-write', revokedAt: T1, reason: 'expiry' }, meta('revoked', 'req-maker', T1));
    given([...known(), ...alicesMakerGrant(), revoked, drift('alice', 'payments_checker', T1)])
      .when(scan())
      .thenMatches([{ type: PolicySodScanCompleted.type, data: { violations: 0 } }]);
  });

  it('Given access a grant lost on the target (missing_in_target), When holdings are assembled, Then it adds nothing', () => {
    const state = foldEvents(decider, [...known(), drift('alice', 'payments_checker', T1, 'missing_in_target')]);

    expect(assembleHoldings(state.policy, state.facts).size).toBe(0);
  });

  it('Given an account no grant was made for, When it is tied to an identity, Then the identity that names it wins over the naming convention', () => {
    const state = foldEvents(decider, known());
    const named = new Map(state.policy.identities);
    named.set('bob', { ...IDENTITIES.find((identity) => identity.identityId === 'bob')!, attributes: { 'account.payments': 'alice' } });

    expect(identityOfAccount('payments', 'alice', state.facts, state.policy.identities)).toBe('alice');
    expect(identityOfAccount('payments', 'alice', state.facts, named)).toBe('bob');
    expect(identityOfAccount('payments', 'shared_batch_login', state.facts, state.policy.identities)).toBeUndefined();
  });

  it('Given a redelivered drift finding, When folded twice, Then the holdings are the same', () => {
    const once = foldEvents(decider, [...known(), drift('alice', 'payments_checker', T1)]);
    const twice = foldEvents(decider, [drift('alice', 'payments_checker', T1)], once);

    expect(assembleHoldings(twice.policy, twice.facts)).toEqual(assembleHoldings(once.policy, once.facts));
  });
});
