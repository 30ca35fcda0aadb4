import { CatalogPublished, IdentityOffboarded, IdentityOwnerChanged, IdentityUpserted, isEvent } from '@grantline/contracts';
import type { AccessPackage, Entitlement, Envelope, Identity } from '@grantline/contracts';

/**
 * What approver resolution needs to know about people and resources: identities (manager, NHI owner of
 * record, status, groups) and the published catalogue (entitlement owners and maximum durations).
 * Not per request: every request reads it, and it is rebuilt from the identities and catalog topics.
 */
export interface Directory {
  readonly identities: ReadonlyMap<string, DirectoryIdentity>;
  readonly entitlements: ReadonlyMap<string, Entitlement>;
  readonly systemOwners: ReadonlyMap<string, string>;
  readonly accessPackages: ReadonlyMap<string, AccessPackage>;
  readonly catalogVersion?: number;
  /** Versions already applied per identity, so a late duplicate cannot overwrite a newer record. */
  readonly identityVersions: ReadonlyMap<string, number>;
}

export interface DirectoryIdentity {
  readonly identityId: string;
  readonly kind: Identity['kind'];
  readonly status: 'active' | 'suspended' | 'offboarded';
  readonly managerId?: string;
  readonly ownerId?: string;
  /** Its `team`, plus the identity's `groups` attribute (comma-separated group ids). */
  readonly groups: readonly string[];
}

export const emptyDirectory = (): Directory => ({
  identities: new Map(),
  entitlements: new Map(),
  systemOwners: new Map(),
  accessPackages: new Map(),
  identityVersions: new Map(),
});

const groupsOf = (identity: Identity): string[] => {
  const raw = identity.attributes['groups'];
  const listed = typeof raw === 'string' ? raw.split(',').map((group) => group.trim()) : [];
  return [...new Set([...(identity.team !== undefined ? [identity.team] : []), ...listed].filter(Boolean))];
};

const toDirectoryIdentity = (identity: Identity): DirectoryIdentity => ({
  identityId: identity.identityId,
  kind: identity.kind,
  status: identity.status,
  ...(identity.kind === 'human' ? (identity.managerId !== undefined ? { managerId: identity.managerId } : {}) : { ownerId: identity.ownerId }),
  groups: groupsOf(identity),
});

const withIdentity = (directory: Directory, identity: DirectoryIdentity): Directory => ({
  ...directory,
  identities: new Map(directory.identities).set(identity.identityId, identity),
});

/** Folds an identity or catalogue event into the directory; any other event leaves it as it is. */
export const evolveDirectory = (directory: Directory, event: Envelope): Directory => {
  if (isEvent(event, IdentityUpserted)) {
    const { identity, sourceVersion } = event.data;
    const known = directory.identityVersions.get(identity.identityId);
    if (sourceVersion !== undefined && known !== undefined && sourceVersion < known) return directory;
    const next = withIdentity(directory, toDirectoryIdentity(identity));
    return sourceVersion === undefined ? next : { ...next, identityVersions: new Map(directory.identityVersions).set(identity.identityId, sourceVersion) };
  }
  if (isEvent(event, IdentityOwnerChanged)) {
    const known = directory.identities.get(event.data.identityId);
    if (!known || known.kind === 'human') return directory;
    return withIdentity(directory, { ...known, ownerId: event.data.newOwnerId });
  }
  if (isEvent(event, IdentityOffboarded)) {
    const known = directory.identities.get(event.data.identityId);
    const identity: DirectoryIdentity = known
      ? { ...known, status: 'offboarded' }
      : { identityId: event.data.identityId, kind: event.data.kind, status: 'offboarded', groups: [] };
    return withIdentity(directory, identity);
  }
  if (isEvent(event, CatalogPublished)) {
    const { catalogVersion, systems, entitlements, accessPackages } = event.data;
    // An older catalogue delivered late must not replace the current one.
    if (directory.catalogVersion !== undefined && catalogVersion < directory.catalogVersion) return directory;
    return {
      ...directory,
      catalogVersion,
      systemOwners: new Map(systems.map((system) => [system.systemId, system.ownerId])),
      entitlements: new Map(entitlements.map((entitlement) => [entitlement.entitlementId, entitlement])),
      accessPackages: new Map(accessPackages.map((pkg) => [pkg.accessPackageId, pkg])),
    };
  }
  return directory;
};

/** Active identities in a group: those whose `groups` attribute names it, plus configured members. */
export const groupMembers = (directory: Directory, groupId: string, configured: ReadonlyMap<string, readonly string[]>): string[] => {
  const members = new Set(configured.get(groupId) ?? []);
  for (const identity of directory.identities.values()) {
    if (identity.groups.includes(groupId)) members.add(identity.identityId);
  }
  return [...members].filter((id) => isActive(directory, id)).sort();
};

/** Unknown identities count as active: the directory may lag, and eligibility is checked again at decision time. */
export const isActive = (directory: Directory, identityId: string): boolean => {
  const identity = directory.identities.get(identityId);
  return identity === undefined || identity.status === 'active';
};
