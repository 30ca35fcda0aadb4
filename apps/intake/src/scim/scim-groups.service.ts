import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '@grantline/decider';
import type { Principal } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { GROUP_RESOURCE_TYPE, SCIM_SCHEMAS } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { matchesFilter, resourceScope } from './scim-filter.matcher';
import { parseFilter } from './scim-filter.parser';
import type { ScimFilter } from './scim-filter.parser';
import { parseGroupBody } from './scim-group.schema';
import type { ScimGroupRecord, ScimMember } from './scim-group.schema';
import { ScimIdentityPublisher, stableJson } from './scim-identity.publisher';
import type { IdentityFact } from './scim-identity.publisher';
import { displayNameOf } from './scim-identity.mapper';
import type { ListQuery } from './scim-list.schema';
import { applyPatch } from './scim-patch.applier';
import { parsePatchBody } from './scim-patch.schema';
import { etagOf, groupBodyOf, groupLocation, ifMatchAccepts, listResponse, projectResource, renderGroup } from './scim-resource.mapper';
import { ScimStore } from './scim.store';
import type { GroupLookup, ScimGroupDocument } from './scim.store';
import { ScimError } from './scim.error';
import { GROUPS_LOCK, userLock } from './scim-users.service';
import type { ScimAnswer } from './scim-users.service';

function lookupOf(filter: ScimFilter): GroupLookup | undefined {
  if (filter.kind !== 'compare' || filter.operator !== 'eq' || typeof filter.value !== 'string' || filter.path.subAttribute !== undefined) return undefined;
  if (filter.path.schema !== undefined && filter.path.schema.toLowerCase() !== SCIM_SCHEMAS.group.toLowerCase()) return undefined;
  switch (filter.path.attribute.toLowerCase()) {
    case 'displayname':
      return { displayNameKey: filter.value.toLowerCase() };
    case 'id':
      return { _id: filter.value };
    case 'externalid':
      return { externalId: filter.value };
    default:
      return undefined;
  }
}

/**
 * /Groups. A Group is not an identity: what Grantline records is each member's `groups` attribute (the names of the
 * groups they are in). So every change of membership, of a group's name, or a group's deletion re-publishes
 * `iga.identity.upserted.v1` for each affected active member, with their new `groups`, before anything is stored.
 * All group writes take one lock: names are unique and memberships are read across groups.
 */
@Injectable()
export class ScimGroupsService {
  constructor(
    private readonly store: ScimStore,
    private readonly identities: ScimIdentityPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async get(id: string, origin: string): Promise<ScimAnswer> {
    return this.answer(await this.live(id), origin);
  }

  async list(query: ListQuery, origin: string): Promise<JsonObject> {
    const filter = query.filter === undefined ? undefined : parseFilter(query.filter);
    const lookup = filter === undefined ? undefined : lookupOf(filter);
    const project = (resource: JsonObject): JsonObject => projectResource(GROUP_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes);
    if (filter === undefined || lookup !== undefined) {
      const { total, page } = await this.store.findGroups(lookup, query.startIndex - 1, query.count);
      return listResponse(
        total,
        query.startIndex,
        page.map((document) => project(this.render(document, origin))),
      );
    }
    const matching = (await this.store.allGroups())
      .map((document) => this.render(document, origin))
      .filter((resource) => matchesFilter(filter, resourceScope(GROUP_RESOURCE_TYPE, resource)));
    return listResponse(matching.length, query.startIndex, matching.slice(query.startIndex - 1, query.startIndex - 1 + query.count).map(project));
  }

  async create(principal: Principal, body: unknown, origin: string): Promise<ScimAnswer> {
    const group = parseGroupBody(body);
    return this.store.exclusively([GROUPS_LOCK], async () => {
      await this.assertNameFree(group.displayName, undefined);
      const resolved = { ...group, members: await this.resolveMembers(group.members, []) };
      const id = randomUUID();
      const now = this.clock.now().toISOString();
      const created = this.documentOf(id, resolved, { resourceType: 'Group', created: now, lastModified: now, version: 1, location: groupLocation(id) });
      await this.commit(principal, undefined, created);
      return this.answer(created, origin);
    });
  }

  async replace(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer> {
    const group = parseGroupBody(body);
    return this.store.exclusively([GROUPS_LOCK], async () => this.change(principal, await this.live(id, ifMatch), group, origin));
  }

  async patch(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer> {
    const operations = parsePatchBody(body);
    return this.store.exclusively([GROUPS_LOCK], async () => {
      const existing = await this.live(id, ifMatch);
      const group = parseGroupBody(applyPatch(GROUP_RESOURCE_TYPE, groupBodyOf(existing.group), operations));
      return this.change(principal, existing, group, origin);
    });
  }

  async remove(principal: Principal, id: string, ifMatch: string | undefined): Promise<void> {
    await this.store.exclusively([GROUPS_LOCK], async () => this.commit(principal, await this.live(id, ifMatch), undefined));
  }

  private async change(principal: Principal, existing: ScimGroupDocument, group: ScimGroupRecord, origin: string): Promise<ScimAnswer> {
    if (group.displayName.toLowerCase() !== existing.displayNameKey) await this.assertNameFree(group.displayName, existing._id);
    const resolved = { ...group, members: await this.resolveMembers(group.members, existing.group.members) };
    if (stableJson(resolved) === stableJson(existing.group)) return this.answer(existing, origin);
    const next = this.documentOf(existing._id, resolved, {
      ...existing.meta,
      version: existing.meta.version + 1,
      lastModified: this.clock.now().toISOString(),
    });
    await this.commit(principal, existing, next);
    return this.answer(next, origin);
  }

  /**
   * Re-publishes every member whose groups change (`before` absent: a new group; `after` absent: a deleted one),
   * under their locks so their version and groups are the ones just read, then stores the group and the members'
   * new versions.
   */
  private async commit(principal: Principal, before: ScimGroupDocument | undefined, after: ScimGroupDocument | undefined): Promise<void> {
    const groupId = (after ?? before)?._id;
    if (groupId === undefined) return;
    const was = new Set(before?.memberIds ?? []);
    const is = new Set(after?.memberIds ?? []);
    const renamed = before !== undefined && after !== undefined && before.displayName !== after.displayName;
    const affected = [...new Set([...was, ...is])].filter((id) => renamed || was.has(id) !== is.has(id)).sort();
    await this.store.exclusively(affected.map(userLock), async () => {
      const [members, memberships] = await Promise.all([this.store.liveUsers(affected), this.store.groupsOf(affected)]);
      const facts: IdentityFact[] = [];
      const advanced: { id: string; from: number; to: number }[] = [];
      for (const member of members) {
        const others = (memberships.get(member._id) ?? []).filter((group) => group.id !== groupId).map((group) => group.displayName);
        const groupNames = after !== undefined && is.has(member._id) ? [...others, after.displayName] : others;
        const version = member.meta.version + 1;
        advanced.push({ id: member._id, from: member.meta.version, to: version });
        // A leaver's groups are kept on their User, but re-publishing them would make them active again.
        if (member.user.active) facts.push(await this.identities.upserted(member._id, member.user, version, groupNames));
      }
      await this.identities.publish(principal, facts);
      if (after === undefined) await this.store.deleteGroup(groupId);
      else if (before === undefined) await this.store.insertGroup(after);
      else await this.store.replaceGroup(after, before.meta.version);
      await this.store.advanceUsers(advanced, this.clock.now().toISOString());
      await this.identities.remember(facts);
    });
  }

  /**
   * Members must be Users provisioned here (their `groups` attribute is what changes). A member already in the
   * group keeps its entry; a new one without `display` gets the User's display name.
   */
  private async resolveMembers(members: readonly ScimMember[], current: readonly ScimMember[]): Promise<ScimMember[]> {
    const known = new Map(current.map((member) => [member.value, member]));
    const added = members.filter((member) => !known.has(member.value));
    const users = new Map((await this.store.liveUsers(added.map((member) => member.value))).map((user) => [user._id, user]));
    const missing = added.filter((member) => !users.has(member.value)).map((member) => member.value);
    if (missing.length > 0)
      throw ScimError.invalidValue(`members: no User ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
    return members.map((member) => {
      const user = users.get(member.value);
      if (member.display !== undefined || user === undefined) return member;
      return { ...member, display: displayNameOf(user.user) };
    });
  }

  private async assertNameFree(displayName: string, id: string | undefined): Promise<void> {
    const holder = await this.store.groupNamed(displayName.toLowerCase());
    if (holder !== undefined && holder._id !== id) throw ScimError.uniqueness(`a Group named ${displayName} exists (${holder._id})`);
  }

  private async live(id: string, ifMatch?: string): Promise<ScimGroupDocument> {
    const document = await this.store.group(id);
    if (document === undefined) throw ScimError.notFound(`Group ${id} not found`);
    if (!ifMatchAccepts(ifMatch, document.meta.version))
      throw ScimError.preconditionFailed(`Group ${id} is at version ${etagOf(document.meta.version)}, not ${ifMatch ?? ''}`);
    return document;
  }

  private documentOf(id: string, group: ScimGroupRecord, meta: ScimGroupDocument['meta']): ScimGroupDocument {
    return {
      _id: id,
      displayName: group.displayName,
      displayNameKey: group.displayName.toLowerCase(),
      ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
      group,
      memberIds: group.members.map((member) => member.value),
      meta,
    };
  }

  private render(document: ScimGroupDocument, origin: string): JsonObject {
    return renderGroup(document._id, document.group, document.meta, origin);
  }

  private answer(document: ScimGroupDocument, origin: string): ScimAnswer {
    return { resource: this.render(document, origin), etag: etagOf(document.meta.version), location: `${origin}${document.meta.location}` };
  }
}
