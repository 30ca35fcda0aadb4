import { randomUUID } from 'node:crypto';
import SCIMMY from 'scimmy';

export type ScimKind = 'Users' | 'Groups';

/** One stored resource: SCIM attributes as the library coerced them, plus what the server owns (id, version, times). */
export interface StoredResource {
  readonly id: string;
  version: number;
  readonly created: string;
  lastModified: string;
  attributes: Record<string, unknown>;
}

export interface ScimSeed {
  readonly users?: readonly string[];
  readonly groups?: readonly { displayName: string; members?: readonly string[] }[];
}

// SCIMMY's typings want a string, its code takes null for "no scimType" (RFC 7644 §3.12 has none for 404).
const scimError = (status: number, scimType: string | null, message: string): Error => new SCIMMY.Types.Error(status, scimType as string, message);

/** `W/"<n>"`: a weak ETag per resource, bumped by every write (RFC 7644 §3.14). */
export function etagOf(resource: StoredResource): string {
  return `W/"${resource.version}"`;
}

/**
 * The target's whole state, in memory: Users and Groups keyed by id. Uniqueness of userName and displayName is the
 * server's (409 uniqueness), members must name existing users (400), and a member listed twice is kept once.
 */
export class ScimStore {
  private readonly resources: Record<ScimKind, Map<string, StoredResource>> = { Users: new Map(), Groups: new Map() };

  all(kind: ScimKind): StoredResource[] {
    return [...this.resources[kind].values()];
  }

  get(kind: ScimKind, id: string): StoredResource | undefined {
    return this.resources[kind].get(id);
  }

  /** The resource as SCIMMY's egress expects it: attributes plus id and meta. */
  view(kind: ScimKind, resource: StoredResource): Record<string, unknown> {
    return {
      ...resource.attributes,
      id: resource.id,
      meta: { resourceType: kind === 'Users' ? 'User' : 'Group', created: resource.created, lastModified: resource.lastModified, version: etagOf(resource) },
    };
  }

  /** Create (no id) or replace (id) a resource; returns its view. */
  put(kind: ScimKind, id: string | undefined, incoming: Record<string, unknown>): Record<string, unknown> {
    const attributes = Object.fromEntries(Object.entries(incoming).filter(([key, value]) => !['id', 'meta', 'schemas'].includes(key) && value !== undefined));
    const uniqueKey = kind === 'Users' ? 'userName' : 'displayName';
    const unique = attributes[uniqueKey];
    if (typeof unique !== 'string' || unique === '') throw scimError(400, 'invalidValue', `${uniqueKey} is required`);
    const clash = this.all(kind).find((other) => other.id !== id && String(other.attributes[uniqueKey]).toLowerCase() === unique.toLowerCase());
    if (clash) throw scimError(409, 'uniqueness', `${uniqueKey} ${unique} is already taken`);
    if (kind === 'Groups') attributes['members'] = this.checkedMembers(attributes['members']);

    const now = new Date().toISOString();
    const existing = id === undefined ? undefined : this.get(kind, id);
    if (id !== undefined && existing === undefined) throw scimError(404, null, `Resource ${id} not found`);
    const resource: StoredResource = existing ?? { id: randomUUID(), version: 0, created: now, lastModified: now, attributes: {} };
    resource.attributes = attributes;
    resource.version += 1;
    resource.lastModified = now;
    this.resources[kind].set(resource.id, resource);
    return this.view(kind, resource);
  }

  remove(kind: ScimKind, id: string): void {
    if (!this.resources[kind].delete(id)) throw scimError(404, null, `Resource ${id} not found`);
    if (kind === 'Users') {
      // A deleted user leaves every group, as a real application would do.
      for (const group of this.all('Groups')) {
        const members = (group.attributes['members'] as { value: string }[] | undefined) ?? [];
        if (!members.some((member) => member.value === id)) continue;
        group.attributes['members'] = members.filter((member) => member.value !== id);
        group.version += 1;
      }
    }
  }

  seed(seed: ScimSeed): void {
    const ids = new Map<string, string>();
    for (const userName of seed.users ?? []) {
      const created = this.put('Users', undefined, { userName, active: true });
      ids.set(userName, String(created['id']));
    }
    for (const group of seed.groups ?? []) {
      const members = (group.members ?? []).map((userName) => {
        const value = ids.get(userName);
        if (value === undefined) throw new Error(`seed group ${group.displayName}: member ${userName} is not a seeded user`);
        return { value };
      });
      this.put('Groups', undefined, { displayName: group.displayName, members });
    }
  }

  private checkedMembers(raw: unknown): { value: string; display?: string; type?: string }[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) throw scimError(400, 'invalidValue', 'members must be a list');
    const byValue = new Map<string, { value: string; display?: string; type?: string }>();
    for (const entry of raw as { value?: unknown }[]) {
      const value = entry?.value;
      if (typeof value !== 'string' || value === '') throw scimError(400, 'invalidValue', 'every member needs a value (a user id)');
      const user = this.get('Users', value);
      if (user === undefined) throw scimError(400, 'invalidValue', `member ${value} is not a user of this application`);
      byValue.set(value, { value, display: String(user.attributes['userName']), type: 'User' });
    }
    return [...byValue.values()];
  }
}
