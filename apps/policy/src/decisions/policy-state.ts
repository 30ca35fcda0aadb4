import {
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantProvisioningFailed,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  TOPICS,
  isEvent,
} from '@grantline/contracts';
import type { AccessPackage, CatalogPublishedData, Entitlement, Envelope, Identity } from '@grantline/contracts';

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

/** The topics whose events this state is built from, read from the beginning at start. */
export const STATE_TOPICS: readonly string[] = [TOPICS.identities, TOPICS.catalog, TOPICS.grants];

export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * What the engine needs besides the request: identities, the catalogue and the grants each identity
 * holds. Rebuilt from the log at every start. Applying an event twice changes nothing, and an event
 * at or before an offset already applied for its partition is skipped, so the start-up replay and the
 * live consumer can overlap without an older record overwriting a newer one.
 */
export class PolicyState {
  private readonly identities = new Map<string, Identity>();
  private readonly grants = new Map<string, HeldGrant>();
  /** grantIds by beneficiary, so a request looks at its subject's grants only. */
  private readonly grantsByBeneficiary = new Map<string, Set<string>>();
  private catalogView: CatalogView | undefined;
  private readonly applied = new Map<string, bigint>();

  identity(identityId: string): Identity | undefined {
    return this.identities.get(identityId);
  }

  get catalog(): CatalogView | undefined {
    return this.catalogView;
  }

  grantsOf(identityId: string): HeldGrant[] {
    const ids = [...(this.grantsByBeneficiary.get(identityId) ?? [])].sort();
    return ids.flatMap((grantId) => {
      const grant = this.grants.get(grantId);
      return grant ? [grant] : [];
    });
  }

  /** Returns false when the event was already applied (same or later offset seen on its partition). */
  apply(event: Envelope, position?: LogPosition): boolean {
    if (position) {
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      const seen = this.applied.get(key);
      if (seen !== undefined && offset <= seen) return false;
      this.applied.set(key, offset);
    }
    this.evolve(event);
    return true;
  }

  private evolve(event: Envelope): void {
    if (isEvent(event, IdentityUpserted)) {
      this.identities.set(event.data.identity.identityId, event.data.identity);
    } else if (isEvent(event, IdentityOwnerChanged)) {
      const identity = this.identities.get(event.data.identityId);
      if (identity && identity.kind !== 'human') this.identities.set(identity.identityId, { ...identity, ownerId: event.data.newOwnerId });
    } else if (isEvent(event, IdentityOffboarded)) {
      const identity = this.identities.get(event.data.identityId);
      if (identity) this.identities.set(identity.identityId, { ...identity, status: 'offboarded' });
    } else if (isEvent(event, CatalogPublished)) {
      // Catalogue events are whole snapshots; an older version arriving late must not win.
      if (this.catalogView && this.catalogView.version >= event.data.catalogVersion) return;
      this.catalogView = {
        version: event.data.catalogVersion,
        digest: event.data.digest,
        systems: new Map(event.data.systems.map((system) => [system.systemId, system])),
        entitlements: new Map(event.data.entitlements.map((entitlement) => [entitlement.entitlementId, entitlement])),
        accessPackages: new Map(event.data.accessPackages.map((pkg) => [pkg.accessPackageId, pkg])),
      };
    } else if (isEvent(event, GrantCreated)) {
      if (this.grants.has(event.data.grantId)) return;
      const held = this.grantsByBeneficiary.get(event.data.beneficiaryId) ?? new Set<string>();
      held.add(event.data.grantId);
      this.grantsByBeneficiary.set(event.data.beneficiaryId, held);
      this.grants.set(event.data.grantId, {
        grantId: event.data.grantId,
        beneficiaryId: event.data.beneficiaryId,
        entitlementId: event.data.entitlementId,
        status: 'pending',
        expiresAt: event.data.expiresAt,
      });
    } else if (isEvent(event, GrantActivated)) {
      const grant = this.grants.get(event.data.grantId);
      if (grant) this.grants.set(grant.grantId, { ...grant, status: 'active', expiresAt: event.data.expiresAt });
    } else if (isEvent(event, GrantRevoked)) {
      this.removeGrant(event.data.grantId);
    } else if (isEvent(event, GrantProvisioningFailed)) {
      if (event.data.terminal && event.data.operation === 'provision') this.removeGrant(event.data.grantId);
    }
  }

  private removeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (!grant) return;
    this.grants.delete(grantId);
    this.grantsByBeneficiary.get(grant.beneficiaryId)?.delete(grantId);
  }
}
