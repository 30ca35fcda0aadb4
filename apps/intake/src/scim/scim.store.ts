import type { Collection, Connection } from 'mongoose';
import { KeyedMutex } from '@grantline/service-kit';
import type { GroupRef, StoredMeta } from './scim-resource.mapper';
import type { ScimGroupRecord } from './scim-group.schema';
import type { ScimUserRecord } from './scim-user.schema';
import { ScimError } from './scim.error';

export const SCIM_USERS_COLLECTION = 'intake_scim_users_v1';
export const SCIM_GROUPS_COLLECTION = 'intake_scim_groups_v1';

export interface ScimUserDocument {
  /** The SCIM id: the userName the User was created with, and the Grantline identity id. */
  _id: string;
  userName: string;
  /** The userName lower-cased: userName is case-insensitive (RFC 7643 §4.1), for filters and uniqueness. */
  userNameKey: string;
  externalId?: string;
  user: ScimUserRecord;
  meta: StoredMeta;
  /**
   * A deleted User is a tombstone: it answers 404, but keeps its version, so the same userName provisioned again
   * continues the identity's sourceVersion instead of starting below what consumers have already seen.
   */
  deleted?: boolean;
}

export interface ScimGroupDocument {
  _id: string;
  displayName: string;
  /** The displayName lower-cased: unique among groups, as member identities list groups by name. */
  displayNameKey: string;
  externalId?: string;
  group: ScimGroupRecord;
  /** The members' ids, indexed: a User's groups are the groups listing it here. */
  memberIds: string[];
  meta: StoredMeta;
}

/** Equality lookups a list can run in the database instead of filtering every resource in memory. */
export type UserLookup = { readonly _id: string } | { readonly userNameKey: string } | { readonly externalId: string };
export type GroupLookup = { readonly _id: string } | { readonly displayNameKey: string } | { readonly externalId: string };

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

const LIVE = { deleted: { $ne: true } } as const;

/**
 * The SCIM resources, in MongoDB (FerretDB locally: no transactions, so a write that touches several documents
 * happens under the in-process locks below, after its events were acknowledged). Updates carry the version they
 * replace, so a second instance writing the same resource at once fails instead of losing an update silently.
 */
export class ScimStore {
  private readonly users: Collection<ScimUserDocument>;
  private readonly groups: Collection<ScimGroupDocument>;
  private readonly locks = new KeyedMutex();

  constructor(connection: Connection) {
    this.users = connection.collection<ScimUserDocument>(SCIM_USERS_COLLECTION);
    this.groups = connection.collection<ScimGroupDocument>(SCIM_GROUPS_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.users.createIndex({ userNameKey: 1 }, { name: 'userNameKey' });
    await this.users.createIndex({ externalId: 1 }, { name: 'externalId' });
    await this.groups.createIndex({ displayNameKey: 1 }, { name: 'displayNameKey' });
    await this.groups.createIndex({ memberIds: 1 }, { name: 'memberIds' });
  }

  /**
   * Runs `work` holding every key, taken in the order given (callers keep one global order: the groups key, then
   * user keys, then userName keys, so two writers never wait on each other in a cycle).
   */
  async exclusively<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(keys)];
    if (first === undefined) return work();
    return this.locks.run(first, () => this.exclusively(rest, work));
  }

  /** Including a tombstone. */
  async user(id: string): Promise<ScimUserDocument | undefined> {
    return (await this.users.findOne({ _id: id })) ?? undefined;
  }

  async liveUsers(ids: readonly string[]): Promise<ScimUserDocument[]> {
    if (ids.length === 0) return [];
    return this.users.find({ _id: { $in: [...ids] }, ...LIVE }).toArray();
  }

  async userNamed(userNameKey: string): Promise<ScimUserDocument | undefined> {
    return (await this.users.findOne({ userNameKey, ...LIVE })) ?? undefined;
  }

  /** A brand-new User; a concurrent creation of the same id (another instance) is a uniqueness conflict. */
  async insertUser(document: ScimUserDocument): Promise<void> {
    try {
      await this.users.insertOne(document);
    } catch (error) {
      if (isDuplicateKey(error)) throw ScimError.uniqueness(`userName ${document.userName} is already provisioned`);
      throw error;
    }
  }

  async replaceUser(document: ScimUserDocument, replacedVersion: number): Promise<void> {
    const result = await this.users.replaceOne({ _id: document._id, 'meta.version': replacedVersion }, document);
    if (result.matchedCount !== 1) throw new ScimError(409, `User ${document._id} changed while this write was applied; read it again`);
  }

  /** A membership change moves each member's version on (their `groups`, and their identity's sourceVersion, changed). */
  async advanceUsers(changes: readonly { id: string; from: number; to: number }[], lastModified: string): Promise<void> {
    for (const change of changes) {
      await this.users.updateOne({ _id: change.id, 'meta.version': change.from }, { $set: { 'meta.version': change.to, 'meta.lastModified': lastModified } });
    }
  }

  async findUsers(lookup: UserLookup | undefined, skip: number, limit: number): Promise<{ total: number; page: ScimUserDocument[] }> {
    const query = { ...lookup, ...LIVE };
    const total = await this.users.countDocuments(query);
    // A limit of 0 means "no limit" to MongoDB; count=0 asks for the total only (RFC 7644 §3.4.2.4).
    const page = limit === 0 ? [] : await this.users.find(query).sort({ _id: 1 }).skip(skip).limit(limit).toArray();
    return { total, page };
  }

  async allUsers(): Promise<ScimUserDocument[]> {
    return this.users.find(LIVE).sort({ _id: 1 }).toArray();
  }

  /** The groups of each User (all Users' when `ids` is undefined), by name. */
  async groupsOf(ids?: readonly string[]): Promise<Map<string, GroupRef[]>> {
    if (ids !== undefined && ids.length === 0) return new Map();
    const wanted = ids === undefined ? undefined : new Set(ids);
    const groups = await this.groups.find(ids === undefined ? {} : { memberIds: { $in: [...ids] } }).toArray();
    const byUser = new Map<string, GroupRef[]>();
    for (const group of groups) {
      for (const memberId of group.memberIds) {
        if (wanted !== undefined && !wanted.has(memberId)) continue;
        byUser.set(memberId, [...(byUser.get(memberId) ?? []), { id: group._id, displayName: group.displayName }]);
      }
    }
    return byUser;
  }

  async group(id: string): Promise<ScimGroupDocument | undefined> {
    return (await this.groups.findOne({ _id: id })) ?? undefined;
  }

  async groupNamed(displayNameKey: string): Promise<ScimGroupDocument | undefined> {
    return (await this.groups.findOne({ displayNameKey })) ?? undefined;
  }

  async insertGroup(document: ScimGroupDocument): Promise<void> {
    await this.groups.insertOne(document);
  }

  async replaceGroup(document: ScimGroupDocument, replacedVersion: number): Promise<void> {
    const result = await this.groups.replaceOne({ _id: document._id, 'meta.version': replacedVersion }, document);
    if (result.matchedCount !== 1) throw new ScimError(409, `Group ${document._id} changed while this write was applied; read it again`);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.groups.deleteOne({ _id: id });
  }

  /** A deleted User leaves every group it was in (RFC 7644 §3.6: it is gone from every operation). */
  async removeMember(userId: string, lastModified: string): Promise<void> {
    for (const group of await this.groups.find({ memberIds: userId }).toArray()) {
      const members = group.group.members.filter((member) => member.value !== userId);
      const next: ScimGroupDocument = {
        ...group,
        group: { ...group.group, members },
        memberIds: group.memberIds.filter((id) => id !== userId),
        meta: { ...group.meta, version: group.meta.version + 1, lastModified },
      };
      await this.replaceGroup(next, group.meta.version);
    }
  }

  async findGroups(lookup: GroupLookup | undefined, skip: number, limit: number): Promise<{ total: number; page: ScimGroupDocument[] }> {
    const query = { ...lookup };
    const total = await this.groups.countDocuments(query);
    const page = limit === 0 ? [] : await this.groups.find(query).sort({ _id: 1 }).skip(skip).limit(limit).toArray();
    return { total, page };
  }

  async allGroups(): Promise<ScimGroupDocument[]> {
    return this.groups.find({}).sort({ _id: 1 }).toArray();
  }
}
