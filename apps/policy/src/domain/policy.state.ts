import {
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantProvisioningFailed,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  isEvent,
} from '@grantline/contracts';
import type { AccessPackage, CatalogPublishedData, Entitlement, Envelope, Identity } from '@grantline/contracts';
import { BREAK_GLASS_REVIEW_EVENTS, applyBreakGlassReviewFact, copyBreakGlassReviewFacts, emptyBreakGlassReviewFacts } from './break-glass-reviews';
import type { BreakGlassReviewFacts } from './break-glass-reviews';

export type CatalogSystem = CatalogPublishedData['systems'][number];

/** A grant the subject holds or is about to hold; SoD is checked against both. */
export interface HeldGrant {
  readonly grantId: string;
  readonly beneficiaryId: string;
  readonly entitlementId: string;
  readonly status: 'pending' | 'active';
  readonly expiresAt: string;
}

export interface CatalogView {
  readonly version: number;
  readonly digest: string;
  readonly systems: ReadonlyMap<string, CatalogSystem>;
  readonly entitlements: ReadonlyMap<string, Entitlement>;
  readonly accessPackages: ReadonlyMap<string, AccessPackage>;
}

/** The facts the state is folded from (their topics are replayed at every start); every other event leaves it as it is. */
export const STATE_EVENTS = [
  IdentityUpserted,
  IdentityOwnerChanged,
  IdentityOffboarded,
  CatalogPublished,
  GrantCreated,
  GrantActivated,
  GrantRevoked,
  GrantProvisioningFailed,
  ...BREAK_GLASS_REVIEW_EVENTS,
] as const;

const FACT_TYPES: ReadonlySet<string> = new Set(STATE_EVENTS.map((definition) => definition.type));

/**
 * What the engine needs besides the request: identities, the catalogue and the grants each identity holds. Applying
 * a fact twice changes nothing, so a redelivered fact is harmless.
 */
export interface PolicyState {
  readonly identities: ReadonlyMap<string, Identity>;
  readonly grants: ReadonlyMap<string, HeldGrant>;
  /** grantIds by beneficiary, so a request looks at its subject's grants only. */
  readonly grantsByBeneficiary: ReadonlyMap<string, ReadonlySet<string>>;
  readonly catalog: CatalogView | undefined;
  /** Break-glass uses and whether their post-incident reviews are complete (policy denies the next use until then). */
  readonly breakGlassReviews: BreakGlassReviewFacts;
}

/** The same shape, writable: the in-place path a replay folds thousands of facts through. */
export interface MutablePolicyState {
  identities: Map<string, Identity>;
  grants: Map<string, HeldGrant>;
  grantsByBeneficiary: Map<string, Set<string>>;
  catalog: CatalogView | undefined;
  breakGlassReviews: BreakGlassReviewFacts;
}

export const initialPolicyState = (): MutablePolicyState => ({
  identities: new Map(),
  grants: new Map(),
  grantsByBeneficiary: new Map(),
  catalog: undefined,
  breakGlassReviews: emptyBreakGlassReviewFacts(),
});

export const grantsOf = (state: PolicyState, identityId: string): HeldGrant[] =>
  [...(state.grantsByBeneficiary.get(identityId) ?? [])].sort().flatMap((grantId) => {
    const grant = state.grants.get(grantId);
    return grant ? [grant] : [];
  });

const removeGrant = (state: MutablePolicyState, grantId: string): void => {
  const grant = state.grants.get(grantId);
  if (!grant) return;
  state.grants.delete(grantId);
  state.grantsByBeneficiary.get(grant.beneficiaryId)?.delete(grantId);
};

/** Folds `event` in place. The single implementation of the transition: `evolvePolicyState` is this on a copy. */
export function applyFact(state: MutablePolicyState, event: Envelope): void {
  if (applyBreakGlassReviewFact(state.breakGlassReviews, event)) return;
  if (isEvent(event, IdentityUpserted)) {
    state.identities.set(event.data.identity.identityId, event.data.identity);
  } else if (isEvent(event, IdentityOwnerChanged)) {
    const identity = state.identities.get(event.data.identityId);
    if (identity && identity.kind !== 'human') state.identities.set(identity.identityId, { ...identity, ownerId: event.data.newOwnerId });
  } else if (isEvent(event, IdentityOffboarded)) {
    const identity = state.identities.get(event.data.identityId);
    if (identity) state.identities.set(identity.identityId, { ...identity, status: 'offboarded' });
  } else if (isEvent(event, CatalogPublished)) {
    // Catalogue events are whole snapshots; an older version arriving late must not win.
    if (state.catalog && state.catalog.version >= event.data.catalogVersion) return;
    state.catalog = {
      version: event.data.catalogVersion,
      digest: event.data.digest,
      systems: new Map(event.data.systems.map((system) => [system.systemId, system])),
      entitlements: new Map(event.data.entitlements.map((entitlement) => [entitlement.entitlementId, entitlement])),
      accessPackages: new Map(event.data.accessPackages.map((pkg) => [pkg.accessPackageId, pkg])),
    };
  } else if (isEvent(event, GrantCreated)) {
    if (state.grants.has(event.data.grantId)) return;
    const held = state.grantsByBeneficiary.get(event.data.beneficiaryId) ?? new Set<string>();
    held.add(event.data.grantId);
    state.grantsByBeneficiary.set(event.data.beneficiaryId, held);
    state.grants.set(event.data.grantId, {
      grantId: event.data.grantId,
      beneficiaryId: event.data.beneficiaryId,
      entitlementId: event.data.entitlementId,
      status: 'pending',
      expiresAt: event.data.expiresAt,
    });
  } else if (isEvent(event, GrantActivated)) {
    const grant = state.grants.get(event.data.grantId);
    if (grant) state.grants.set(grant.grantId, { ...grant, status: 'active', expiresAt: event.data.expiresAt });
  } else if (isEvent(event, GrantRevoked)) {
    removeGrant(state, event.data.grantId);
  } else if (isEvent(event, GrantProvisioningFailed)) {
    if (event.data.terminal && event.data.operation === 'provision') removeGrant(state, event.data.grantId);
  }
}

/** Pure: the state after `event`; the input is not touched (the copy makes this O(state), so a replay uses `applyFact`). */
export function evolvePolicyState(state: PolicyState, event: Envelope): PolicyState {
  if (!FACT_TYPES.has(event.type)) return state;
  const next: MutablePolicyState = {
    identities: new Map(state.identities),
    grants: new Map(state.grants),
    grantsByBeneficiary: new Map([...state.grantsByBeneficiary].map(([beneficiaryId, grantIds]) => [beneficiaryId, new Set(grantIds)])),
    // Never changed in place: a newer catalogue replaces the view whole.
    catalog: state.catalog,
    breakGlassReviews: copyBreakGlassReviewFacts(state.breakGlassReviews),
  };
  applyFact(next, event);
  return next;
}
