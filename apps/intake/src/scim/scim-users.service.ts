import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '@grantline/decider';
import type { Principal } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { SCIM_SCHEMAS, USER_RESOURCE_TYPE } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { matchesFilter, resourceScope } from './scim-filter.matcher';
import { parseFilter } from './scim-filter.parser';
import type { ScimFilter } from './scim-filter.parser';
import { ScimIdentityPublisher, stableJson } from './scim-identity.publisher';
import type { IdentityFact } from './scim-identity.publisher';
import type { ListQuery } from './scim-list.schema';
import { applyPatch } from './scim-patch.applier';
import { parsePatchBody } from './scim-patch.schema';
import { etagOf, ifMatchAccepts, listResponse, projectResource, renderUser, userBodyOf, userLocation } from './scim-resource.mapper';
import type { GroupRef } from './scim-resource.mapper';
import { parseUserBody } from './scim-user.schema';
import type { ScimUserRecord } from './scim-user.schema';
import { ScimStore } from './scim.store';
import type { ScimUserDocument, UserLookup } from './scim.store';
import { ScimError } from './scim.error';

/** A resource as answered: its representation, and what goes in the ETag and Location headers. */
export interface ScimAnswer {
  readonly resource: JsonObject;
  readonly etag: string;
  readonly location: string;
}

/** Lock keys, in their one global order: the groups lock, then users, then userNames (see ScimStore.exclusively). */
export const GROUPS_LOCK = 'groups';
export const userLock = (id: string): string => `user:${id.toLowerCase()}`;
const userNameLock = (userName: string): string => `userName:${userName.toLowerCase()}`;

/** `userName eq "x"`, `id eq "x"`, `externalId eq "x"`: answered by an index instead of a scan. */
function lookupOf(filter: ScimFilter): UserLookup | undefined {
  if (filter.kind !== 'compare' || filter.operator !== 'eq' || typeof filter.value !== 'string' || filter.path.subAttribute !== undefined) return undefined;
  if (filter.path.schema !== undefined && filter.path.schema.toLowerCase() !== SCIM_SCHEMAS.user.toLowerCase()) return undefined;
  switch (filter.path.attribute.toLowerCase()) {
    case 'username':
      return { userNameKey: filter.value.toLowerCase() };
    case 'id':
      return { _id: filter.value };
    case 'externalid':
      return { externalId: filter.value };
    default:
      return undefined;
  }
}

/**
 * /Users. Every write publishes its identity facts first (answering 503 when Kafka does not acknowledge, with nothing
 * stored), then stores the resource, then answers from what it stored. `active: false` (by PUT or PATCH) and DELETE
 * make the person a leaver: `iga.identity.offboarded.v1`, reason `leaver`. A write that changes nothing publishes
 * nothing: the version (sourceVersion of the identity, ETag of the resource) moves only when the User does.
 */
@Injectable()
export class ScimUsersService {
  constructor(
    private readonly store: ScimStore,
    private readonly identities: ScimIdentityPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async get(id: string, origin: string): Promise<ScimAnswer> {
    const document = await this.live(id);
    const groups = (await this.store.groupsOf([id])).get(id) ?? [];
    return this.answer(document, groups, origin);
  }

  async list(query: ListQuery, origin: string): Promise<JsonObject> {
    const filter = query.filter === undefined ? undefined : parseFilter(query.filter);
    const lookup = filter === undefined ? undefined : lookupOf(filter);
    const project = (resource: JsonObject): JsonObject => projectResource(USER_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes);
    if (filter === undefined || lookup !== undefined) {
      const { total, page } = await this.store.findUsers(lookup, query.startIndex - 1, query.count);
      const groups = await this.store.groupsOf(page.map((document) => document._id));
      return listResponse(
        total,
        query.startIndex,
        page.map((document) => project(this.render(document, groups.get(document._id) ?? [], origin))),
      );
    }
    // Any other filter is evaluated over every User: correct for all of RFC 7644's grammar, linear in the Users.
    const [documents, groups] = await Promise.all([this.store.allUsers(), this.store.groupsOf()]);
    const matching = documents
      .map((document) => this.render(document, groups.get(document._id) ?? [], origin))
      .filter((resource) => matchesFilter(filter, resourceScope(USER_RESOURCE_TYPE, resource)));
    return listResponse(matching.length, query.startIndex, matching.slice(query.startIndex - 1, query.startIndex - 1 + query.count).map(project));
  }

  async create(principal: Principal, body: unknown, origin: string): Promise<ScimAnswer> {
    const user = parseUserBody(body);
    // RFC 7644 §3.3: the service provider assigns the id; Grantline's identity id is the userName, so that is the id.
    const id = user.userName;
    return this.store.exclusively([userLock(id), userNameLock(user.userName)], async () => {
      const existing = await this.store.user(id);
      if (existing !== undefined && existing.deleted !== true) throw ScimError.uniqueness(`userName ${user.userName} is already provisioned`);
      await this.assertUserNameFree(user.userName, id);
      // A person another source recorded, created inactive here, has left.
      const wasActive = await this.identities.isActivePerson(id);
      const version = (existing?.meta.version ?? 0) + 1;
      const now = this.clock.now();
      const facts = await this.factsOf(id, wasActive, user, version, [], now);
      await this.identities.publish(principal, facts);
      const document: ScimUserDocument = {
        ...this.documentOf(id, user),
        meta: { resourceType: 'User', created: now.toISOString(), lastModified: now.toISOString(), version, location: userLocation(id) },
      };
      if (existing === undefined) await this.store.insertUser(document);
      else await this.store.replaceUser(document, existing.meta.version);
      await this.identities.remember(facts);
      return this.answer(document, [], origin);
    });
  }

  async replace(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer> {
    const user = parseUserBody(body);
    return this.store.exclusively([userLock(id)], async () => {
      const existing = await this.live(id, ifMatch);
      return this.commit(principal, existing, user, origin);
    });
  }

  async patch(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer> {
    const operations = parsePatchBody(body);
    return this.store.exclusively([userLock(id)], async () => {
      const existing = await this.live(id, ifMatch);
      // The patched User is validated like a PUT body: a PATCH cannot produce what a PUT could not.
      const user = parseUserBody(applyPatch(USER_RESOURCE_TYPE, userBodyOf(existing.user), operations));
      return this.commit(principal, existing, user, origin);
    });
  }

  /** RFC 7644 §3.6: gone for every later operation (404). In Grantline a deleted person is a leaver. */
  async remove(principal: Principal, id: string, ifMatch: string | undefined): Promise<void> {
    await this.store.exclusively([GROUPS_LOCK, userLock(id)], async () => {
      const existing = await this.live(id, ifMatch);
      const version = existing.meta.version + 1;
      const now = this.clock.now();
      const facts = existing.user.active ? [await this.identities.offboarded(id, version, now)] : [];
      await this.identities.publish(principal, facts);
      // The tombstone keeps the id and version only, no personal data.
      const tombstone: ScimUserDocument = {
        _id: id,
        userName: existing.userName,
        userNameKey: existing.userNameKey,
        user: { userName: existing.userName, active: false },
        meta: { ...existing.meta, version, lastModified: now.toISOString() },
        deleted: true,
      };
      await this.store.replaceUser(tombstone, existing.meta.version);
      await this.store.removeMember(id, now.toISOString());
      await this.identities.remember(facts);
    });
  }

  /** Runs under the User's lock; takes the lock of its (possibly new) userName for the uniqueness check. */
  private async commit(principal: Principal, existing: ScimUserDocument, user: ScimUserRecord, origin: string): Promise<ScimAnswer> {
    return this.store.exclusively([userNameLock(user.userName)], async () => {
      if (user.userName.toLowerCase() !== existing.userNameKey) await this.assertUserNameFree(user.userName, existing._id);
      const groups = (await this.store.groupsOf([existing._id])).get(existing._id) ?? [];
      if (stableJson(user) === stableJson(existing.user)) return this.answer(existing, groups, origin);
      const version = existing.meta.version + 1;
      const now = this.clock.now();
      const facts = await this.factsOf(
        existing._id,
        existing.user.active,
        user,
        version,
        groups.map((group) => group.displayName),
        now,
      );
      await this.identities.publish(principal, facts);
      const document: ScimUserDocument = { ...this.documentOf(existing._id, user), meta: { ...existing.meta, version, lastModified: now.toISOString() } };
      await this.store.replaceUser(document, existing.meta.version);
      await this.identities.remember(facts);
      return this.answer(document, groups, origin);
    });
  }

  /** An active User is (re)recorded as a person; one who stops being active is a leaver; an inactive one changes nothing downstream. */
  private async factsOf(
    id: string,
    wasActive: boolean,
    user: ScimUserRecord,
    version: number,
    groupNames: readonly string[],
    now: Date,
  ): Promise<IdentityFact[]> {
    if (user.active) return [await this.identities.upserted(id, user, version, groupNames)];
    if (wasActive) return [await this.identities.offboarded(id, version, now)];
    return [];
  }

  private async assertUserNameFree(userName: string, id: string): Promise<void> {
    const holder = await this.store.userNamed(userName.toLowerCase());
    if (holder !== undefined && holder._id !== id) throw ScimError.uniqueness(`userName ${userName} is already provisioned (as ${holder._id})`);
  }

  /** The live User, or 404; with If-Match, 412 unless it names the current version. */
  private async live(id: string, ifMatch?: string): Promise<ScimUserDocument> {
    const document = await this.store.user(id);
    if (document === undefined || document.deleted === true) throw ScimError.notFound(`User ${id} not found`);
    if (!ifMatchAccepts(ifMatch, document.meta.version))
      throw ScimError.preconditionFailed(`User ${id} is at version ${etagOf(document.meta.version)}, not ${ifMatch ?? ''}`);
    return document;
  }

  private documentOf(id: string, user: ScimUserRecord): Omit<ScimUserDocument, 'meta'> {
    return {
      _id: id,
      userName: user.userName,
      userNameKey: user.userName.toLowerCase(),
      ...(user.externalId === undefined ? {} : { externalId: user.externalId }),
      user,
    };
  }

  private render(document: ScimUserDocument, groups: readonly GroupRef[], origin: string): JsonObject {
    return renderUser(document._id, document.user, document.meta, groups, origin);
  }

  private answer(document: ScimUserDocument, groups: readonly GroupRef[], origin: string): ScimAnswer {
    return { resource: this.render(document, groups, origin), etag: etagOf(document.meta.version), location: `${origin}${document.meta.location}` };
  }
}
