import { CatalogPublished, IdentityOffboarded, IdentityOwnerChanged, IdentityOwnershipTransferOpened, IdentityUpserted, isEvent } from '@grantline/contracts';
import type { CredentialType, Envelope, Identity, IdentityOwnershipTransferOpenedData } from '@grantline/contracts';
import { DEACTIVATION_GRANT_EVENTS, deactivationKeyOf, evolveDeactivation, foldsDeactivation } from './account-deactivation';
import type { DeactivationState } from './account-deactivation';
import { GRANT_EVENTS, evolveGrant } from './grant.state';
import type { GrantState } from './grant.state';

/** What provisioning needs of an entitlement: where it lives and how the target names it. */
export interface EntitlementTarget {
  readonly entitlementId: string;
  readonly systemId: string;
  readonly connectorId: string;
  readonly externalRef: string;
  readonly catalogVersion: number;
  /** Grants of it are delivered as a credential of this kind, minted for the grant (catalogue v2). */
  readonly credentialType?: CredentialType;
}

/** Read-only view `decide` works on. */
export interface ProvisioningView {
  grant(grantId: string): GrantState | undefined;
  grantsOfRequest(requestId: string): readonly GrantState[];
  grantsOfBeneficiary(identityId: string): readonly GrantState[];
  entitlement(entitlementId: string): EntitlementTarget | undefined;
  identity(identityId: string): Identity | undefined;
  /** Every grant a connector was (or is to be) told about. */
  grantsOfConnector(connectorId: string): readonly GrantState[];
  /** The catalogue's entitlements that a connector provisions. */
  entitlementsOfConnector(connectorId: string): readonly EntitlementTarget[];
  /** Whether the identity was offboarded: nothing is provisioned for it any more, whatever order the events came in. */
  hasLeft(identityId: string): boolean;
  /** The open ownership transfer case of a machine identity whose owner left (it is frozen until the case closes). */
  openOwnershipTransfer(identityId: string): IdentityOwnershipTransferOpenedData | undefined;
  /** The newest catalogue says leavers' accounts in this system are deactivated (`deactivateLeaverAccounts`). */
  deactivatesLeaverAccounts(systemId: string): boolean;
  /** A leaver's account deactivation through one connector, once asked for. */
  accountDeactivation(identityId: string, connectorId: string): DeactivationState | undefined;
  /** Every account deactivation asked of a connector. */
  accountDeactivationsOfConnector(connectorId: string): readonly DeactivationState[];
}

/** The events the state is folded from: the grants this service wrote, the catalogue and the identities. */
export const STATE_EVENTS = [
  ...GRANT_EVENTS,
  ...DEACTIVATION_GRANT_EVENTS,
  CatalogPublished,
  IdentityUpserted,
  IdentityOffboarded,
  IdentityOwnershipTransferOpened,
  IdentityOwnerChanged,
] as const;

/** Per system, from the newest catalogue that has it: whether leavers' accounts in it are deactivated. */
export interface LeaverAccountSystem {
  readonly deactivate: boolean;
  readonly catalogVersion: number;
}

/**
 * What the state is made of, for a snapshot (ADR 0037): each map as its entries and the leavers, in insertion order
 * (the queries that list grants and deactivations answer in that order). The indexes by request and by beneficiary
 * are not part of it: `restore` derives them from the grants, whose request and beneficiary never change.
 */
export type ProvisioningStateParts = {
  readonly grants: Iterable<readonly [string, GrantState]>;
  readonly entitlements: Iterable<readonly [string, EntitlementTarget]>;
  readonly identities: Iterable<readonly [string, Identity]>;
  readonly leavers: Iterable<string>;
  readonly ownershipTransfers: Iterable<readonly [string, IdentityOwnershipTransferOpenedData]>;
  readonly leaverAccountSystems: Iterable<readonly [string, LeaverAccountSystem]>;
  readonly deactivations: Iterable<readonly [string, DeactivationState]>;
};

const GRANT_TYPES = new Set<string>(GRANT_EVENTS.map((def) => def.type));
const STATE_TYPES = new Set<string>(STATE_EVENTS.map((def) => def.type));

function addTo(index: Map<string, Set<string>>, key: string, grantId: string): void {
  const ids = index.get(key) ?? new Set<string>();
  ids.add(grantId);
  index.set(key, ids);
}

/**
 * Every grant with its lifecycle state, plus the catalogue and identities it is provisioned from, built by
 * folding events. Entitlements of every catalogue version are kept (newest wins per id): a grant made under
 * an older catalogue must still be removable after its entitlement left the catalogue.
 *
 * `apply` folds in place: the service holds one state and its start-up replay folds the whole log, which a copy
 * per event would make quadratic. The decider's evolve folds into a `clone()` instead, so it stays pure.
 */
export class ProvisioningState implements ProvisioningView {
  private readonly grants = new Map<string, GrantState>();
  private readonly byRequest = new Map<string, Set<string>>();
  private readonly byBeneficiary = new Map<string, Set<string>>();
  private readonly entitlements = new Map<string, EntitlementTarget>();
  private readonly identities = new Map<string, Identity>();
  private readonly leavers = new Set<string>();
  private readonly ownershipTransfers = new Map<string, IdentityOwnershipTransferOpenedData>();
  private readonly leaverAccountSystems = new Map<string, LeaverAccountSystem>();
  private readonly deactivations = new Map<string, DeactivationState>();

  /** Whether `event` is one the state is folded from (every other event leaves it as it is). */
  static folds(event: Envelope): boolean {
    return STATE_TYPES.has(event.type);
  }

  clone(): ProvisioningState {
    const copy = new ProvisioningState();
    for (const [id, grant] of this.grants) copy.grants.set(id, grant);
    for (const [key, ids] of this.byRequest) copy.byRequest.set(key, new Set(ids));
    for (const [key, ids] of this.byBeneficiary) copy.byBeneficiary.set(key, new Set(ids));
    for (const [id, entitlement] of this.entitlements) copy.entitlements.set(id, entitlement);
    for (const [id, identity] of this.identities) copy.identities.set(id, identity);
    for (const id of this.leavers) copy.leavers.add(id);
    for (const [id, transfer] of this.ownershipTransfers) copy.ownershipTransfers.set(id, transfer);
    for (const [id, system] of this.leaverAccountSystems) copy.leaverAccountSystems.set(id, system);
    for (const [key, deactivation] of this.deactivations) copy.deactivations.set(key, deactivation);
    return copy;
  }

  /** The state's parts, read as they are now: iterate them before anything else is folded. */
  parts(): ProvisioningStateParts {
    return {
      grants: this.grants.entries(),
      entitlements: this.entitlements.entries(),
      identities: this.identities.entries(),
      leavers: this.leavers.values(),
      ownershipTransfers: this.ownershipTransfers.entries(),
      leaverAccountSystems: this.leaverAccountSystems.entries(),
      deactivations: this.deactivations.entries(),
    };
  }

  /**
   * Fills a state that holds nothing with `parts` (a snapshot's, already read and checked) and derives its indexes.
   * A state that holds something is refused before anything changes: a snapshot is the whole state, never merged.
   */
  restore(parts: ProvisioningStateParts): void {
    const held = [this.grants, this.entitlements, this.identities, this.leavers, this.ownershipTransfers, this.leaverAccountSystems, this.deactivations];
    if (held.some((part) => part.size > 0)) throw new Error('a provisioning state is restored only into a state that holds nothing');
    for (const [grantId, grant] of parts.grants) {
      this.grants.set(grantId, grant);
      addTo(this.byRequest, grant.requestId, grantId);
      addTo(this.byBeneficiary, grant.beneficiaryId, grantId);
    }
    for (const [id, entitlement] of parts.entitlements) this.entitlements.set(id, entitlement);
    for (const [id, identity] of parts.identities) this.identities.set(id, identity);
    for (const id of parts.leavers) this.leavers.add(id);
    for (const [id, transfer] of parts.ownershipTransfers) this.ownershipTransfers.set(id, transfer);
    for (const [id, system] of parts.leaverAccountSystems) this.leaverAccountSystems.set(id, system);
    for (const [key, deactivation] of parts.deactivations) this.deactivations.set(key, deactivation);
  }

  apply(event: Envelope): void {
    if (GRANT_TYPES.has(event.type)) {
      const grantId = (event.data as { grantId: string }).grantId;
      const next = evolveGrant(this.grants.get(grantId), event);
      if (!next) return;
      this.grants.set(grantId, next);
      addTo(this.byRequest, next.requestId, grantId);
      addTo(this.byBeneficiary, next.beneficiaryId, grantId);
    } else if (foldsDeactivation(event)) {
      const { identityId, connectorId } = event.data as { identityId: string; connectorId: string };
      const key = deactivationKeyOf(identityId, connectorId);
      const next = evolveDeactivation(this.deactivations.get(key), event);
      if (next) this.deactivations.set(key, next);
    } else if (isEvent(event, CatalogPublished)) {
      const { catalogVersion, systems, entitlements } = event.data;
      for (const system of systems) {
        const known = this.leaverAccountSystems.get(system.systemId);
        if (known && known.catalogVersion > catalogVersion) continue;
        this.leaverAccountSystems.set(system.systemId, { deactivate: system.deactivateLeaverAccounts === true, catalogVersion });
      }
      const connectorOf = new Map(systems.map((system) => [system.systemId, system.connectorId]));
      for (const entitlement of entitlements) {
        const known = this.entitlements.get(entitlement.entitlementId);
        const connectorId = connectorOf.get(entitlement.systemId);
        if (connectorId === undefined || (known && known.catalogVersion > catalogVersion)) continue;
        this.entitlements.set(entitlement.entitlementId, {
          entitlementId: entitlement.entitlementId,
          systemId: entitlement.systemId,
          connectorId,
          externalRef: entitlement.externalRef,
          catalogVersion,
          ...(entitlement.credential ? { credentialType: entitlement.credential.type } : {}),
        });
      }
    } else if (isEvent(event, IdentityUpserted)) {
      this.identities.set(event.data.identity.identityId, event.data.identity);
    } else if (isEvent(event, IdentityOffboarded)) {
      this.leavers.add(event.data.identityId);
    } else if (isEvent(event, IdentityOwnershipTransferOpened)) {
      this.ownershipTransfers.set(event.data.identityId, event.data);
    } else if (isEvent(event, IdentityOwnerChanged)) {
      // Both are keyed by the machine identity, so an owner change never overtakes the case it closes.
      this.ownershipTransfers.delete(event.data.identityId);
      // The new owner of record is who holds the machine identity's credentials from now on.
      const identity = this.identities.get(event.data.identityId);
      if (identity && identity.kind !== 'human') this.identities.set(identity.identityId, { ...identity, ownerId: event.data.newOwnerId });
    }
  }

  grant(grantId: string): GrantState | undefined {
    return this.grants.get(grantId);
  }

  grantsOfRequest(requestId: string): GrantState[] {
    return this.collect(this.byRequest.get(requestId));
  }

  grantsOfBeneficiary(identityId: string): GrantState[] {
    return this.collect(this.byBeneficiary.get(identityId));
  }

  entitlement(entitlementId: string): EntitlementTarget | undefined {
    return this.entitlements.get(entitlementId);
  }

  identity(identityId: string): Identity | undefined {
    return this.identities.get(identityId);
  }

  grantsOfConnector(connectorId: string): GrantState[] {
    return [...this.grants.values()].filter((grant) => grant.connectorId === connectorId);
  }

  entitlementsOfConnector(connectorId: string): EntitlementTarget[] {
    return [...this.entitlements.values()].filter((entitlement) => entitlement.connectorId === connectorId);
  }

  hasLeft(identityId: string): boolean {
    return this.leavers.has(identityId);
  }

  openOwnershipTransfer(identityId: string): IdentityOwnershipTransferOpenedData | undefined {
    return this.ownershipTransfers.get(identityId);
  }

  deactivatesLeaverAccounts(systemId: string): boolean {
    return this.leaverAccountSystems.get(systemId)?.deactivate === true;
  }

  accountDeactivation(identityId: string, connectorId: string): DeactivationState | undefined {
    return this.deactivations.get(deactivationKeyOf(identityId, connectorId));
  }

  accountDeactivationsOfConnector(connectorId: string): DeactivationState[] {
    return [...this.deactivations.values()].filter((deactivation) => deactivation.connectorId === connectorId);
  }

  get size(): number {
    return this.grants.size;
  }

  allGrants(): IterableIterator<GrantState> {
    return this.grants.values();
  }

  private collect(ids: Set<string> | undefined): GrantState[] {
    return [...(ids ?? [])].flatMap((id) => {
      const grant = this.grants.get(id);
      return grant ? [grant] : [];
    });
  }
}
