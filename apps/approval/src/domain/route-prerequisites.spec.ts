import { ApprovalTaskOpened } from '@grantline/contracts';
import type { ApprovalStage, Envelope } from '@grantline/contracts';
import { decideAndEvolve, foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import type { RequestApprovalState } from './approval.state';
import { emptyDirectory } from './directory';
import type { Directory } from './directory';
import { awaitsRoute, isKnown, missingForRoute } from './route-prerequisites';
import { catalogEvent, decided, directoryOf, organisation, specDecider, stage, submitted, withdrawn } from '../testing/approval-scenario';

const REQ = 'req-1';
const ROUTE = { kind: 'route', requestId: REQ } as const;
const everything = (): Directory => directoryOf([...organisation(), catalogEvent()]);
const given = (...events: Envelope[]): RequestApprovalState => foldEvents(specDecider(everything()), events);
/** The organisation and catalogue without some identities. */
const without = (...identityIds: string[]): Directory =>
  directoryOf([
    ...organisation().filter((event) => !identityIds.includes((event.data as { identity: { identityId: string } }).identity.identityId)),
    catalogEvent(),
  ]);
const routedBy = (stages: ApprovalStage[], overrides: Parameters<typeof submitted>[1] = {}): RequestApprovalState =>
  given(submitted(REQ, overrides), decided(REQ, { route: { stages } }));
const nhi = { subject: { id: 'svc-orders', kind: 'service_account' as const } };
const managerStage = [stage('manager', [{ resolver: 'manager' }])];

describe('missingForRoute', () => {
  describe('nothing to wait for', () => {
    it('before the request or the decision is known, after routing, after the end and after a withdrawal', () => {
      const empty = emptyDirectory();
      expect(missingForRoute(given(submitted(REQ)), empty)).toEqual([]);
      expect(missingForRoute(given(decided(REQ)), empty)).toEqual([]);
      const routed = given(submitted(REQ), decided(REQ));
      const opened = decideAndEvolve(specDecider(everything()), ROUTE, routed).state;
      expect(awaitsRoute(routed)).toBe(true);
      expect(awaitsRoute(opened)).toBe(false);
      expect(missingForRoute(opened, empty)).toEqual([]);
      expect(missingForRoute(given(submitted(REQ), decided(REQ), withdrawn(REQ)), empty)).toEqual([]);
    });

    it('a denial reads nothing from the directory', () => {
      expect(missingForRoute(given(submitted(REQ), decided(REQ, { effect: 'deny' })), emptyDirectory())).toEqual([]);
    });

    it('security, group and pre-resolved stages of a human beneficiary need no identity record', () => {
      const stages = [stage('s', [{ resolver: 'security' }, { resolver: 'group', group: 'sre' }, { resolver: 'manager', resolvedIdentityIds: ['bob'] }])];
      expect(missingForRoute(routedBy(stages), emptyDirectory())).toEqual([]);
      // nhi_owner on a human beneficiary resolves to nobody whatever the directory says
      expect(missingForRoute(routedBy([stage('owner', [{ resolver: 'nhi_owner' }])]), emptyDirectory())).toEqual([]);
    });

    it('the manager of a known human need not be known itself (unknown identities count as active)', () => {
      expect(missingForRoute(routedBy(managerStage), without('bob'))).toEqual([]);
    });

    it('only the first stage is routed now: a later manager stage waits for nothing', () => {
      expect(missingForRoute(routedBy([stage('security', [{ resolver: 'security' }]), ...managerStage]), emptyDirectory())).toEqual([]);
    });
  });

  describe('approval routes', () => {
    it('manager: the beneficiary record, which names the manager', () => {
      const state = routedBy(managerStage);
      expect(missingForRoute(state, without('alice'))).toEqual([{ kind: 'identity', identityId: 'alice', role: 'beneficiary' }]);
      expect(missingForRoute(state, everything())).toEqual([]);
    });

    it('manager of an NHI: its record first, then its owner (whose manager answers for it)', () => {
      const state = routedBy(managerStage, nhi);
      expect(missingForRoute(state, without('svc-orders', 'carol'))).toEqual([{ kind: 'identity', identityId: 'svc-orders', role: 'beneficiary' }]);
      expect(missingForRoute(state, without('carol'))).toEqual([{ kind: 'identity', identityId: 'carol', role: 'nhi_owner' }]);
      expect(missingForRoute(state, everything())).toEqual([]);
    });

    it('an NHI beneficiary always needs its record: nhi_owner resolves to its owner, other stages must exclude that owner', () => {
      const gap = [{ kind: 'identity', identityId: 'svc-orders', role: 'beneficiary' }];
      expect(missingForRoute(routedBy([stage('owner', [{ resolver: 'nhi_owner' }])], nhi), without('svc-orders'))).toEqual(gap);
      expect(missingForRoute(routedBy([stage('security', [{ resolver: 'security' }])], nhi), without('svc-orders'))).toEqual(gap);
      // the owner's own record is not needed by nhi_owner (it is named by the NHI's record)
      expect(missingForRoute(routedBy([stage('owner', [{ resolver: 'nhi_owner' }])], nhi), without('carol'))).toEqual([]);
    });

    it('resource_owner: every requested entitlement missing from the catalogue', () => {
      const state = routedBy([stage('owner', [{ resolver: 'resource_owner' }])], { items: { entitlementIds: ['orders-read', 'payments-admin'] } });
      expect(missingForRoute(state, directoryOf(organisation()))).toEqual([
        { kind: 'entitlement', entitlementId: 'orders-read' },
        { kind: 'entitlement', entitlementId: 'payments-admin' },
      ]);
      expect(missingForRoute(state, everything())).toEqual([{ kind: 'entitlement', entitlementId: 'payments-admin' }]);
    });

    it('resource_owner of an access package: the package, then its entitlements', () => {
      const state = routedBy([stage('owner', [{ resolver: 'resource_owner' }])], { items: { accessPackageId: 'orders-analyst' } });
      expect(missingForRoute(state, directoryOf(organisation()))).toEqual([{ kind: 'access_package', accessPackageId: 'orders-analyst' }]);
      expect(missingForRoute(state, everything())).toEqual([]);
    });

    it('several resolvers in one stage add up', () => {
      const state = routedBy([stage('both', [{ resolver: 'manager' }, { resolver: 'resource_owner' }], 2)]);
      expect(missingForRoute(state, emptyDirectory())).toEqual([
        { kind: 'identity', identityId: 'alice', role: 'beneficiary' },
        { kind: 'entitlement', entitlementId: 'orders-read' },
      ]);
    });
  });

  describe('break-glass and auto-approval', () => {
    const breakGlass = { emergency: { breakGlass: true as const, incidentRef: { system: 'jira' as const, id: 'INC-1' } } };

    it('wait for the catalogue they plan grants from, never for identities', () => {
      const auto = given(submitted(REQ), decided(REQ, { effect: 'auto_approve' }));
      expect(missingForRoute(auto, directoryOf([catalogEvent()]))).toEqual([]);
      expect(missingForRoute(auto, everything())).toEqual([]);
      expect(missingForRoute(auto, directoryOf(organisation()))).toEqual([{ kind: 'entitlement', entitlementId: 'orders-read' }]);

      const emergency = given(
        submitted(REQ, breakGlass),
        decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }),
      );
      // the reviewer (alice's manager) falls back to the security group rather than delay the emergency
      expect(missingForRoute(emergency, directoryOf([catalogEvent()]))).toEqual([]);
      expect(
        missingForRoute(
          given(
            submitted(REQ, { ...breakGlass, items: { accessPackageId: 'orders-analyst' } }),
            decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }),
          ),
          emptyDirectory(),
        ),
      ).toEqual([{ kind: 'access_package', accessPackageId: 'orders-analyst' }]);
    });

    it('break-glass on a require_approval decision skips the route: its stages are not waited for', () => {
      const state = given(submitted(REQ, breakGlass), decided(REQ, { constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }));
      expect(missingForRoute(state, directoryOf([catalogEvent()]))).toEqual([]);
    });
  });

  it('isKnown tells when a directory event filled a gap', () => {
    const directory = everything();
    expect(isKnown(directory, { kind: 'identity', identityId: 'alice', role: 'beneficiary' })).toBe(true);
    expect(isKnown(directory, { kind: 'identity', identityId: 'zed', role: 'nhi_owner' })).toBe(false);
    expect(isKnown(directory, { kind: 'access_package', accessPackageId: 'orders-analyst' })).toBe(true);
    expect(isKnown(directory, { kind: 'entitlement', entitlementId: 'payments-admin' })).toBe(false);
  });

  it('why it matters: routed with the gap the manager stage falls back to security, without it the manager gets the task', () => {
    const state = routedBy(managerStage);
    const routedOver = (directory: Directory) => deciderSpec(specDecider(directory)).state(state).when(ROUTE);
    routedOver(without('alice')).thenMatches([{ type: ApprovalTaskOpened.type, data: { eligibleApproverIds: ['sec-1', 'sec-2'] } }]);
    expect(missingForRoute(state, everything())).toEqual([]);
    routedOver(everything()).thenMatches([{ type: ApprovalTaskOpened.type, data: { eligibleApproverIds: ['bob'] } }]);
  });
});
