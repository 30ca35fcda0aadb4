import { COMMON_ATTRIBUTES, SCIM_SCHEMAS, findAttribute, isJsonObject, keyOf, resolveAttribute } from './scim-attributes.schema';
import type { Json, JsonObject, ScimResourceType } from './scim-attributes.schema';
import { ScimSyntaxError, attrPathOf } from './scim-filter.parser';
import type { AttrPath } from './scim-filter.parser';
import type { ScimGroupRecord } from './scim-group.schema';
import type { ScimUserRecord } from './scim-user.schema';

/** Where the SCIM endpoints live on the intake; `meta.location` and `$ref` are this path under the caller's origin. */
export const SCIM_BASE_PATH = '/scim/v2';

/** RFC 7643 §3.1 `meta`, as stored: the version is a counter (also the identity's sourceVersion), the location a path. */
export interface StoredMeta {
  readonly resourceType: 'User' | 'Group';
  readonly created: string;
  readonly lastModified: string;
  readonly version: number;
  readonly location: string;
}

export interface GroupRef {
  readonly id: string;
  readonly displayName: string;
}

export const userLocation = (id: string): string => `${SCIM_BASE_PATH}/Users/${encodeURIComponent(id)}`;
export const groupLocation = (id: string): string => `${SCIM_BASE_PATH}/Groups/${encodeURIComponent(id)}`;

/** RFC 7644 §3.14: a weak entity tag; `meta.version` carries the same value. */
export const etagOf = (version: number): string => `W/"${version}"`;

/** RFC 7232 §3.1 If-Match: `*`, or a list of tags compared weakly (with or without `W/`). */
export function ifMatchAccepts(header: string | undefined, version: number): boolean {
  if (header === undefined || header.trim() === '') return true;
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(`"${version}"`);
}

/** A User as a PUT body would carry it (canonical names, the extension under its URN): what PATCH operates on. */
export function userBodyOf(user: ScimUserRecord): JsonObject {
  const { enterprise, ...core } = user;
  return JSON.parse(JSON.stringify({ ...core, ...(enterprise === undefined ? {} : { [SCIM_SCHEMAS.enterpriseUser]: enterprise }) })) as JsonObject;
}

export function groupBodyOf(group: ScimGroupRecord): JsonObject {
  return JSON.parse(JSON.stringify(group)) as JsonObject;
}

function metaOf(meta: StoredMeta, origin: string): JsonObject {
  return {
    resourceType: meta.resourceType,
    created: meta.created,
    lastModified: meta.lastModified,
    location: `${origin}${meta.location}`,
    version: etagOf(meta.version),
  };
}

/** RFC 7643 §4.1 / §8.2: the User representation answered to the client. */
export function renderUser(id: string, user: ScimUserRecord, meta: StoredMeta, groups: readonly GroupRef[], origin: string): JsonObject {
  const { enterprise, ...core } = user;
  const manager = enterprise?.manager?.value;
  const extension =
    enterprise === undefined
      ? undefined
      : { ...enterprise, ...(manager === undefined ? {} : { manager: { value: manager, $ref: `${origin}${userLocation(manager)}` } }) };
  return JSON.parse(
    JSON.stringify({
      schemas: [SCIM_SCHEMAS.user, ...(extension === undefined ? [] : [SCIM_SCHEMAS.enterpriseUser])],
      id,
      ...core,
      ...(groups.length === 0
        ? {}
        : {
            groups: [...groups]
              .sort((a, b) => a.displayName.localeCompare(b.displayName))
              .map((group) => ({ value: group.id, $ref: `${origin}${groupLocation(group.id)}`, display: group.displayName, type: 'direct' })),
          }),
      ...(extension === undefined ? {} : { [SCIM_SCHEMAS.enterpriseUser]: extension }),
      meta: metaOf(meta, origin),
    }),
  ) as JsonObject;
}

/** RFC 7643 §4.2 / §8.4: the Group representation answered to the client. */
export function renderGroup(id: string, group: ScimGroupRecord, meta: StoredMeta, origin: string): JsonObject {
  return JSON.parse(
    JSON.stringify({
      schemas: [SCIM_SCHEMAS.group],
      id,
      displayName: group.displayName,
      ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
      members: group.members.map((member) => ({
        value: member.value,
        $ref: `${origin}${userLocation(member.value)}`,
        ...(member.display === undefined ? {} : { display: member.display }),
        type: 'User',
      })),
      meta: metaOf(meta, origin),
    }),
  ) as JsonObject;
}

export function listResponse(totalResults: number, startIndex: number, resources: readonly JsonObject[]): JsonObject {
  return { schemas: [SCIM_SCHEMAS.listResponse], totalResults, itemsPerPage: resources.length, startIndex, Resources: [...resources] };
}

const pathOrUndefined = (name: string): AttrPath | undefined => {
  try {
    return attrPathOf(name);
  } catch (error) {
    if (error instanceof ScimSyntaxError) return undefined;
    throw error;
  }
};

/** `id` and `schemas` are always returned (RFC 7643 §7 `returned: always`; §3 schemas). */
const ALWAYS = ['id', 'schemas'];

/** Copies (or removes) one attribute or sub-attribute named in `attributes` / `excludedAttributes`. */
function locate(
  type: ScimResourceType,
  resource: JsonObject,
  name: string,
): { container: JsonObject; key: string; sub?: string; extension?: string } | undefined {
  const path = pathOrUndefined(name);
  if (path === undefined) return undefined;
  const resolved = resolveAttribute(type, path.schema, path.attribute);
  if (!resolved) return undefined;
  const extensionKey = resolved.extension === undefined ? undefined : keyOf(resource, resolved.extension);
  const container = extensionKey === undefined ? (resolved.extension === undefined ? resource : undefined) : resource[extensionKey];
  if (!isJsonObject(container)) return undefined;
  const key = keyOf(container, resolved.definition.name);
  if (key === undefined) return undefined;
  const sub = path.subAttribute === undefined ? undefined : findAttribute(resolved.definition.subAttributes, path.subAttribute)?.name;
  return { container, key, ...(sub === undefined ? {} : { sub }), ...(extensionKey === undefined ? {} : { extension: extensionKey }) };
}

const pick = (value: Json, sub: string): Json | undefined => {
  if (Array.isArray(value)) return value.map((item) => (isJsonObject(item) && item[sub] !== undefined ? { [sub]: item[sub] as Json } : {}));
  return isJsonObject(value) && value[sub] !== undefined ? { [sub]: value[sub] as Json } : undefined;
};

/**
 * RFC 7644 §3.4.2.5 `attributes` / `excludedAttributes`: top-level and sub-attribute names, URN-qualified or not.
 * Azure AD asks `excludedAttributes=members` when it only wants to know whether a group exists.
 */
export function projectResource(type: ScimResourceType, resource: JsonObject, attributes?: readonly string[], excluded?: readonly string[]): JsonObject {
  if (attributes !== undefined && attributes.length > 0) {
    const result: JsonObject = {};
    for (const name of ALWAYS) if (resource[name] !== undefined) result[name] = resource[name] as Json;
    for (const name of attributes) {
      const found = locate(type, resource, name);
      if (!found) continue;
      const value = found.container[found.key] as Json;
      const copied = found.sub === undefined ? value : pick(value, found.sub);
      if (copied === undefined) continue;
      const target = found.extension === undefined ? result : ((result[found.extension] ??= {}) as JsonObject);
      const previous = target[found.key];
      target[found.key] = isJsonObject(previous) && isJsonObject(copied) ? { ...previous, ...copied } : copied;
    }
    return result;
  }
  if (excluded === undefined || excluded.length === 0) return resource;
  const result = structuredClone(resource);
  for (const name of excluded) {
    const found = locate(type, result, name);
    if (!found || (found.extension === undefined && findAttribute(COMMON_ATTRIBUTES, found.key)?.returned === 'always')) continue;
    if (found.sub === undefined) {
      delete found.container[found.key];
      continue;
    }
    const value = found.container[found.key];
    const sub = found.sub;
    for (const item of Array.isArray(value) ? value : [value ?? null]) if (isJsonObject(item)) delete item[sub];
  }
  return result;
}
