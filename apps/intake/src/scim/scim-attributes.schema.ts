/**
 * The SCIM 2.0 schemas this service provider implements (RFC 7643 §4.1 User, §4.2 Group, §4.3 enterprise User
 * extension), as data. One definition serves three purposes: the `/Schemas` discovery document, the
 * case-insensitive resolution of attribute names in bodies, filters and PATCH paths (RFC 7643 §2.1: attribute names
 * are case-insensitive), and the mutability rules a PATCH must respect. An attribute not defined here is not
 * supported, and is ignored where it arrives (RFC 7644 §3.3: "unknown attributes ... SHALL be ignored").
 */

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export const SCIM_SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export const isJsonObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

export type ScimAttributeType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';

/** RFC 7643 §7: the characteristics of one attribute. */
export interface ScimAttribute {
  readonly name: string;
  readonly type: ScimAttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: 'readOnly' | 'readWrite' | 'immutable';
  readonly returned: 'always' | 'default';
  readonly uniqueness: 'none' | 'server';
  readonly subAttributes?: readonly ScimAttribute[];
  readonly referenceTypes?: readonly string[];
  readonly canonicalValues?: readonly string[];
}

export interface ScimSchemaDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly ScimAttribute[];
}

export interface ScimResourceType {
  readonly id: 'User' | 'Group';
  readonly endpoint: '/Users' | '/Groups';
  readonly description: string;
  readonly schema: ScimSchemaDefinition;
  readonly extensions: readonly ScimSchemaDefinition[];
}

type Options = Partial<Omit<ScimAttribute, 'name' | 'type' | 'description'>>;

const attribute = (name: string, type: ScimAttributeType, description: string, options: Options = {}): ScimAttribute => ({
  name,
  type,
  description,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...options,
});

const text = (name: string, description: string, options: Options = {}): ScimAttribute => attribute(name, 'string', description, options);

/** `emails`, `phoneNumbers`: the shape RFC 7643 §2.4 gives every multi-valued attribute. */
const multiValued = (name: string, description: string, types: readonly string[]): ScimAttribute =>
  attribute(name, 'complex', description, {
    multiValued: true,
    subAttributes: [
      text('value', `The ${name} value.`),
      text('display', 'A human-readable name, primarily used for display purposes.'),
      text('type', 'A label indicating the function of the value.', { canonicalValues: types }),
      attribute('primary', 'boolean', 'Whether this is the primary value; only one value may be primary.'),
    ],
  });

/** RFC 7643 §3.1: common to every resource, and not part of any schema's attribute list. */
export const COMMON_ATTRIBUTES: readonly ScimAttribute[] = [
  text('id', 'Unique identifier for the resource, assigned by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  text('externalId', 'An identifier for the resource as defined by the provisioning client.', { caseExact: true }),
  text('schemas', 'The schema URIs the representation uses.', { multiValued: true, caseExact: true, mutability: 'readOnly' }),
  attribute('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      text('resourceType', 'The name of the resource type.', { caseExact: true, mutability: 'readOnly' }),
      attribute('created', 'dateTime', 'When the resource was added.', { mutability: 'readOnly' }),
      attribute('lastModified', 'dateTime', 'When the resource was last changed.', { mutability: 'readOnly' }),
      attribute('location', 'reference', 'The URI of the resource.', { caseExact: true, mutability: 'readOnly' }),
      text('version', 'The version (ETag) of the resource.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_SCHEMAS.user,
  name: 'User',
  description: 'User Account: a person Grantline governs access for (identityId = id = userName at creation).',
  attributes: [
    text('userName', 'Unique identifier for the User; becomes the Grantline identity id, so it may not contain whitespace (at most 200 characters).', {
      required: true,
      uniqueness: 'server',
    }),
    attribute('name', 'complex', "The components of the user's name.", {
      subAttributes: [
        text('formatted', 'The full name, formatted for display.'),
        text('familyName', 'The family name.'),
        text('givenName', 'The given name.'),
        text('middleName', 'The middle name(s).'),
        text('honorificPrefix', 'The honorific prefix(es).'),
        text('honorificSuffix', 'The honorific suffix(es).'),
      ],
    }),
    text('displayName', 'The name of the User, suitable for display (at most 200 characters).'),
    text('nickName', 'The casual way to address the user.'),
    attribute('profileUrl', 'reference', "A URI to the user's online profile.", { referenceTypes: ['external'] }),
    text('title', "The user's title."),
    text('userType', 'The relationship to the organization; recorded lower-cased as the `employment` attribute (e.g. contractor).'),
    text('preferredLanguage', 'The preferred written or spoken language.'),
    text('locale', 'The default location, for localization.'),
    text('timezone', "The User's time zone (IANA)."),
    attribute('active', 'boolean', 'Administrative status; false makes the user a leaver (offboarded in Grantline).'),
    multiValued('emails', 'Email addresses; the primary one becomes the identity email.', ['work', 'home', 'other']),
    multiValued('phoneNumbers', 'Phone numbers.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    attribute('groups', 'complex', "The Groups the User belongs to (read-only: change a Group's members instead).", {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        text('value', 'The id of the Group.', { mutability: 'readOnly' }),
        attribute('$ref', 'reference', 'The URI of the Group.', { mutability: 'readOnly', referenceTypes: ['Group'] }),
        text('display', 'The displayName of the Group.', { mutability: 'readOnly' }),
        text('type', 'direct membership.', { mutability: 'readOnly', canonicalValues: ['direct'] }),
      ],
    }),
  ],
};

export const ENTERPRISE_USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_SCHEMAS.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User extension: the manager becomes the identity manager, the department its team.',
  attributes: [
    text('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
    text('costCenter', 'Identifies the name of a cost center.'),
    text('organization', 'Identifies the name of an organization.'),
    text('division', 'Identifies the name of a division.'),
    text('department', 'Identifies the name of a department; recorded as the identity team.'),
    attribute('manager', 'complex', "The User's manager: `value` is the manager's id (their userName).", {
      subAttributes: [
        text('value', "The id of the SCIM resource representing the User's manager.", { caseExact: true }),
        attribute('$ref', 'reference', "The URI of the manager's User resource.", { referenceTypes: ['User'] }),
        text('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_SCHEMAS.group,
  name: 'Group',
  description: 'Group: its displayName is listed in the `groups` attribute of each member identity.',
  attributes: [
    text('displayName', 'A human-readable name for the Group, unique (case-insensitively), without commas.', { required: true, uniqueness: 'server' }),
    attribute('members', 'complex', 'The Users in the Group (nested Groups are not supported).', {
      multiValued: true,
      subAttributes: [
        text('value', 'The id of the member User.', { caseExact: true, mutability: 'immutable' }),
        attribute('$ref', 'reference', 'The URI of the member.', { mutability: 'immutable', referenceTypes: ['User'] }),
        text('display', 'The displayName of the member.'),
        text('type', 'The type of the member.', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

export const USER_RESOURCE_TYPE: ScimResourceType = {
  id: 'User',
  endpoint: '/Users',
  description: 'People provisioned by the identity provider.',
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
};

export const GROUP_RESOURCE_TYPE: ScimResourceType = {
  id: 'Group',
  endpoint: '/Groups',
  description: 'Groups of people; membership is recorded on each member identity.',
  schema: GROUP_SCHEMA,
  extensions: [],
};

export const RESOURCE_TYPES: readonly ScimResourceType[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export const findAttribute = (attributes: readonly ScimAttribute[] | undefined, name: string): ScimAttribute | undefined =>
  attributes?.find((candidate) => same(candidate.name, name));

/** Where an attribute lives: at the root of the resource, or inside an extension's object (keyed by its URN). */
export interface ResolvedAttribute {
  readonly definition: ScimAttribute;
  /** The extension URN whose object holds the attribute; undefined for core and common attributes. */
  readonly extension?: string;
}

/** An extension's object, addressed as a whole (`"path": "urn:...:enterprise:2.0:User"`), behaves as a complex attribute. */
const containerOf = (extension: ScimSchemaDefinition): ScimAttribute =>
  attribute(extension.id, 'complex', extension.description, { subAttributes: extension.attributes });

/**
 * Resolves a (possibly URN-qualified) attribute name case-insensitively. `schema` is the URN before the last colon
 * of a qualified name (RFC 7644 §3.10); a name that is itself an extension's URN addresses the extension object.
 */
export function resolveAttribute(type: ScimResourceType, schema: string | undefined, name: string): ResolvedAttribute | undefined {
  const qualified = schema === undefined ? name : `${schema}:${name}`;
  const whole = type.extensions.find((extension) => same(extension.id, qualified));
  if (whole) return { definition: containerOf(whole) };
  if (schema === undefined || same(schema, type.schema.id)) {
    const definition = findAttribute(COMMON_ATTRIBUTES, name) ?? findAttribute(type.schema.attributes, name);
    return definition ? { definition } : undefined;
  }
  const extension = type.extensions.find((candidate) => same(candidate.id, schema));
  const definition = extension ? findAttribute(extension.attributes, name) : undefined;
  return extension && definition ? { definition, extension: extension.id } : undefined;
}

/** The key an object uses for `name`, whatever its case: SCIM attribute names are case-insensitive. */
export const keyOf = (object: JsonObject, name: string): string | undefined => Object.keys(object).find((key) => same(key, name));

/**
 * A value with every known attribute under its canonical name, unknown attributes and nulls dropped (RFC 7643
 * §2.5: null is "unassigned"), so schemas, filters and PATCH see one spelling. Read-only attributes are dropped too
 * when `writable` is set: a client echoing `id`, `meta` or `groups` back in a PUT is ignored (RFC 7644 §3.5.1).
 */
export function canonicalValue(definition: ScimAttribute, value: Json, writable: boolean): Json | undefined {
  if (value === null) return undefined;
  if (definition.type !== 'complex' || definition.subAttributes === undefined) {
    if (definition.multiValued && Array.isArray(value)) return value.filter((item) => item !== null);
    return value;
  }
  const canonicalObject = (item: Json): Json => {
    if (!isJsonObject(item)) return item;
    const result: JsonObject = {};
    for (const [key, nested] of Object.entries(item)) {
      const sub = findAttribute(definition.subAttributes, key);
      if (!sub || (writable && sub.mutability === 'readOnly')) continue;
      const canonical = canonicalValue(sub, nested, writable);
      if (canonical !== undefined) result[sub.name] = canonical;
    }
    return result;
  };
  if (Array.isArray(value)) return value.filter((item) => item !== null).map(canonicalObject);
  return canonicalObject(value);
}

/** A whole resource body, canonicalized (see canonicalValue); the extension objects stay under their URN. */
export function canonicalResource(type: ScimResourceType, body: JsonObject, writable: boolean): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    const resolved = resolveAttribute(type, undefined, key);
    if (!resolved || (writable && resolved.definition.mutability === 'readOnly')) continue;
    const canonical = canonicalValue(resolved.definition, value, writable);
    if (canonical !== undefined) result[resolved.definition.name] = canonical;
  }
  return result;
}
