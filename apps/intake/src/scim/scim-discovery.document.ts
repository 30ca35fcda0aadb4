import { MAX_PAGE_SIZE } from './scim-list.schema';
import { RESOURCE_TYPES, SCIM_SCHEMAS } from './scim-attributes.schema';
import type { JsonObject, ScimAttribute, ScimSchemaDefinition } from './scim-attributes.schema';
import { SCIM_BASE_PATH } from './scim-resource.mapper';

/** RFC 7643 §5–§7 documents, generated from the same definitions that validate and resolve attributes. */

function attributeDocument(attribute: ScimAttribute): JsonObject {
  return {
    name: attribute.name,
    type: attribute.type,
    multiValued: attribute.multiValued,
    description: attribute.description,
    required: attribute.required,
    caseExact: attribute.caseExact,
    mutability: attribute.mutability,
    returned: attribute.returned,
    uniqueness: attribute.uniqueness,
    ...(attribute.canonicalValues === undefined ? {} : { canonicalValues: [...attribute.canonicalValues] }),
    ...(attribute.referenceTypes === undefined ? {} : { referenceTypes: [...attribute.referenceTypes] }),
    ...(attribute.subAttributes === undefined ? {} : { subAttributes: attribute.subAttributes.map(attributeDocument) }),
  };
}

const SCHEMA_DEFINITIONS: readonly ScimSchemaDefinition[] = RESOURCE_TYPES.flatMap((type) => [type.schema, ...type.extensions]);

/** RFC 7643 §7: one schema, as `/Schemas/{id}` answers it. */
export function schemaDocuments(origin: string): JsonObject[] {
  return SCHEMA_DEFINITIONS.map((schema) => ({
    schemas: [SCIM_SCHEMAS.schema],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeDocument),
    meta: { resourceType: 'Schema', location: `${origin}${SCIM_BASE_PATH}/Schemas/${schema.id}` },
  }));
}

/** RFC 7643 §6. */
export function resourceTypeDocuments(origin: string): JsonObject[] {
  return RESOURCE_TYPES.map((type) => ({
    schemas: [SCIM_SCHEMAS.resourceType],
    id: type.id,
    name: type.id,
    endpoint: type.endpoint,
    description: type.description,
    schema: type.schema.id,
    schemaExtensions: type.extensions.map((extension) => ({ schema: extension.id, required: false })),
    meta: { resourceType: 'ResourceType', location: `${origin}${SCIM_BASE_PATH}/ResourceTypes/${type.id}` },
  }));
}

/** RFC 7643 §5: what this service provider supports. */
export function serviceProviderConfig(origin: string): JsonObject {
  return {
    schemas: [SCIM_SCHEMAS.serviceProviderConfig],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: "A bearer token of Grantline's OIDC issuer, for a client holding the identity-source role.",
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${origin}${SCIM_BASE_PATH}/ServiceProviderConfig` },
  };
}
