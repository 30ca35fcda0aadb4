import { z } from 'zod';
import { IdentitySchema } from '@grantline/contracts';
import { PROBLEM_OPENAPI_SCHEMA, PROBLEM_RESPONSES, PROBLEM_SCHEMA_NAME, openApiSchemaOf, problemResponse } from '@grantline/http-edge';
import {
  AttributesAcceptedSchema,
  IdentityAcceptedSchema,
  OffboardAcceptedSchema,
  RequestStatusViewSchema,
  RevokeAcceptedSchema,
  SubmitAcceptedSchema,
  TransferAcceptedSchema,
  TransferProposedSchema,
  WithdrawAcceptedSchema,
} from '../http/intake-answers.schema';
import { OffboardBodySchema, RevokeBodySchema, SubmitRequestBodySchema, WithdrawBodySchema } from '../requests/request-body.schema';
import { AttributesBodySchema } from '../identities/identity-attributes.schema';
import { AcceptOwnerTransferBodySchema, ProposeOwnerTransferBodySchema } from '../identities/identities.controller';
import { ScimGroupBodySchema } from '../scim/scim-group.schema';
import { PatchOpBodySchema } from '../scim/scim-patch.schema';
import { ScimUserBodySchema } from '../scim/scim-user.schema';

// The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: what zod writes by default.
const schemaOf = (schema: z.ZodType, io: 'input' | 'output' = 'input') => openApiSchemaOf(schema, { io, target: 'draft-2020-12' });

const problem = problemResponse('RFC 9457 problem details');
const errors = {
  '400': problemResponse(PROBLEM_RESPONSES[400]),
  '401': problemResponse(PROBLEM_RESPONSES[401]),
  '403': problemResponse(PROBLEM_RESPONSES[403]),
  '404': problemResponse(PROBLEM_RESPONSES[404]),
  '409': problemResponse('Refused in the current state (e.g. the request is already closed); nothing was written'),
  '413': problemResponse('Body larger than the limit (2 MB by default)'),
  '422': problemResponse(PROBLEM_RESPONSES[422]),
  '503': problemResponse('Kafka did not acknowledge the event: nothing was accepted; retry with the same key'),
};
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema: schemaOf(schema, 'output') } } });
const HealthSchema = z.looseObject({ status: z.string().describe('ok, or error with the failing checks in `error`') });
const JwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional() })) });
const OpenIdConfigurationSchema = z.looseObject({ issuer: z.string(), jwks_uri: z.string() });
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Same key + same body → the original answer (header Idempotent-Replayed: true); same key + other body → 422, nothing published. A key is bound to the first request sent with it, even one that failed. A call whose key is still running on the same instance waits for it.',
  schema: { type: 'string', maxLength: 200 },
};
/** SCIM 2.0 (RFC 7644) answers errors as `urn:ietf:params:scim:api:messages:2.0:Error` in application/scim+json. */
const ScimErrorSchema = z.object({
  schemas: z.array(z.string()),
  status: z.string(),
  scimType: z.string().optional(),
  detail: z.string().optional(),
});
const scimError = {
  description: 'SCIM error (RFC 7644 §3.12): status, scimType, detail',
  content: { 'application/scim+json': { schema: schemaOf(ScimErrorSchema, 'output') } },
};
const scimErrors = {
  '400': scimError,
  '401': scimError,
  '403': { ...scimError, description: 'Not an identity-source principal; the attempt is recorded' },
  '404': scimError,
};
/** RFC 7643 §3.1: what every SCIM resource the intake answers carries besides its own attributes. */
const ScimCommonSchema = z.looseObject({
  schemas: z.array(z.string()),
  id: z.string().optional(),
  meta: z.object({ resourceType: z.string(), created: z.string(), lastModified: z.string(), location: z.string(), version: z.string() }).partial().optional(),
});
const scimContent = (schema: Record<string, unknown>) => ({ 'application/scim+json': { schema } });
const scimResource = (description: string, resource?: z.ZodType) => ({
  description,
  content: scimContent(
    resource === undefined ? schemaOf(ScimCommonSchema, 'output') : { allOf: [schemaOf(resource, 'output'), schemaOf(ScimCommonSchema, 'output')] },
  ),
});
/** RFC 7644 §3.4.2: a page of resources. */
const scimListResponse = (description: string, resource?: z.ZodType) => ({
  description,
  content: scimContent({
    type: 'object',
    required: ['schemas', 'totalResults', 'Resources'],
    properties: {
      schemas: { type: 'array', items: { type: 'string' } },
      totalResults: { type: 'integer' },
      startIndex: { type: 'integer' },
      itemsPerPage: { type: 'integer' },
      Resources: { type: 'array', items: scimResource('', resource).content['application/scim+json'].schema },
    },
  }),
});
const scimBody = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/scim+json': { schema: schemaOf(schema) }, 'application/json': { schema: schemaOf(schema) } },
});
/** RFC 7644 §4: the discovery endpoints refuse a filter (403). */
const discoveryFilterParam = {
  name: 'filter',
  in: 'query',
  required: false,
  description: 'Not supported on the discovery endpoints: a filter is refused with 403 (RFC 7644 §4)',
  schema: { type: 'string' },
};
const scimListParams = ['filter', 'startIndex', 'count'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }));
/** One SCIM resource type's collection and item paths (identity-source only). */
const scimResourcePaths = (name: 'Users' | 'Groups', schema: z.ZodType): Record<string, unknown> => ({
  [`/scim/v2/${name}`]: {
    get: {
      summary: `List ${name} (filter, startIndex, count)`,
      tags: ['scim'],
      parameters: scimListParams,
      responses: { '200': scimListResponse('ListResponse', schema), ...scimErrors },
    },
    post: {
      summary: `Create a ${name.slice(0, -1)}`,
      tags: ['scim'],
      requestBody: scimBody(schema),
      responses: { '201': scimResource('Created', schema), '409': scimError, ...scimErrors },
    },
  },
  [`/scim/v2/${name}/{id}`]: {
    get: {
      summary: `One ${name.slice(0, -1)}`,
      tags: ['scim'],
      parameters: [idParam('id')],
      responses: { '200': scimResource('The resource', schema), ...scimErrors },
    },
    put: {
      summary: `Replace a ${name.slice(0, -1)}`,
      tags: ['scim'],
      parameters: [idParam('id')],
      requestBody: scimBody(schema),
      responses: { '200': scimResource('Replaced', schema), '412': scimError, ...scimErrors },
    },
    patch: {
      summary: `Patch a ${name.slice(0, -1)} (PatchOp)`,
      tags: ['scim'],
      parameters: [idParam('id')],
      requestBody: scimBody(PatchOpBodySchema),
      responses: { '200': scimResource('Patched', schema), '412': scimError, ...scimErrors },
    },
    delete: {
      summary: name === 'Users' ? 'Delete a User: a leaver' : 'Delete a Group',
      tags: ['scim'],
      parameters: [idParam('id')],
      responses: { '204': { description: 'Deleted' }, ...scimErrors },
    },
  },
});

const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', maxLength: 200 } });
const accepted = (description: string, schema: z.ZodType) => ({ '202': json(description, schema) });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schemaOf(schema) } } });

/**
 * The OpenAPI document, built from the same zod schemas that validate the requests, so it cannot drift from
 * what the API accepts.
 */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Grantline intake',
      version: '1',
      description:
        'The front door: access requests, withdrawals, revocations and identities. Every write answers 202 only after Kafka acknowledged the event (acks=all). Authenticate with an OIDC bearer token; the actor of every event is the token subject.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        [PROBLEM_SCHEMA_NAME]: PROBLEM_OPENAPI_SCHEMA,
      },
    },
    paths: {
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': json('The process answers', HealthSchema) } } },
      '/health/ready': {
        get: {
          summary: 'Readiness: Kafka and MongoDB answer',
          security: [],
          responses: { '200': json('Ready', HealthSchema), '503': json('A dependency is down', HealthSchema) },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format): counts, durations, topics and consumer groups, never an identity',
          security: [],
          responses: { '200': { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/dev-issuer/jwks.json': {
        get: { summary: 'AUTH_MODE=dev only: the dev issuer public keys', security: [], responses: { '200': json('JWKS', JwksSchema), '404': problem } },
      },
      '/dev-issuer/.well-known/openid-configuration': {
        get: {
          summary: 'AUTH_MODE=dev only: the dev issuer discovery document',
          security: [],
          responses: { '200': json('OpenID provider metadata (issuer, jwks_uri)', OpenIdConfigurationSchema) },
        },
      },
      '/v1/requests': {
        post: {
          summary: 'Submit an access request',
          parameters: [idempotencyKey],
          requestBody: body(SubmitRequestBodySchema),
          responses: { ...accepted('Recorded on iga.requests.v1 as iga.request.submitted.v2', SubmitAcceptedSchema), ...errors },
        },
      },
      '/v1/requests/{id}': {
        get: {
          summary: 'A request with its status, grants and timeline',
          parameters: [idParam('id')],
          responses: { '200': json('The request', RequestStatusViewSchema), '401': errors['401'], '404': errors['404'] },
        },
      },
      '/v1/requests/{id}/withdraw': {
        post: {
          summary: 'Withdraw a request',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(WithdrawBodySchema),
          responses: { ...accepted('iga.request.withdrawn.v1 recorded', WithdrawAcceptedSchema), ...errors },
        },
      },
      '/v1/grants/{id}/revoke': {
        post: {
          summary: 'Request revocation of a grant',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(RevokeBodySchema),
          responses: { ...accepted('iga.revocation.requested.v1 recorded', RevokeAcceptedSchema), ...errors },
        },
      },
      '/v1/identities/{id}': {
        put: {
          summary: 'Upsert a person (with manager) or a non-human identity (with owner of record)',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schemaOf(IdentitySchema) } } },
          responses: { ...accepted('iga.identity.upserted.v1 recorded', IdentityAcceptedSchema), ...errors },
        },
      },
      '/v1/identities/{id}/attributes': {
        patch: {
          summary: 'Set attributes owned by a source other than the identity source (onCall: the on-call system); null removes one',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(AttributesBodySchema),
          responses: { ...accepted('iga.identity.upserted.v1 recorded with the whole record', AttributesAcceptedSchema), ...errors },
        },
      },
      '/v1/identities/{id}/owner-transfers': {
        post: {
          summary: "Propose a new owner of record for a machine identity (its owner, the owner's manager, the identity source or an administrator)",
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(ProposeOwnerTransferBodySchema),
          responses: {
            ...accepted('iga.identity.owner-transfer-proposed.v1 recorded; nothing changes until the proposed owner accepts', TransferProposedSchema),
            ...errors,
          },
        },
      },
      '/v1/identities/{id}/owner-transfers/{transferId}/accept': {
        post: {
          summary: 'The proposed owner accepts: the owner of record changes',
          parameters: [idParam('id'), idParam('transferId'), idempotencyKey],
          requestBody: body(AcceptOwnerTransferBodySchema),
          responses: { ...accepted('iga.identity.owner-changed.v1 recorded (reason transfer)', TransferAcceptedSchema), ...errors },
        },
      },
      ...scimResourcePaths('Users', ScimUserBodySchema),
      ...scimResourcePaths('Groups', ScimGroupBodySchema),
      '/scim/v2/ServiceProviderConfig': {
        get: {
          summary: 'SCIM service provider configuration',
          tags: ['scim'],
          parameters: [discoveryFilterParam],
          responses: { '200': scimResource('ServiceProviderConfig'), ...scimErrors },
        },
      },
      '/scim/v2/Schemas': {
        get: {
          summary: 'SCIM schemas',
          tags: ['scim'],
          parameters: [discoveryFilterParam],
          responses: { '200': scimListResponse('ListResponse of schemas'), ...scimErrors },
        },
      },
      '/scim/v2/Schemas/{id}': {
        get: { summary: 'One SCIM schema', tags: ['scim'], parameters: [idParam('id')], responses: { '200': scimResource('Schema'), ...scimErrors } },
      },
      '/scim/v2/ResourceTypes': {
        get: {
          summary: 'SCIM resource types',
          tags: ['scim'],
          parameters: [discoveryFilterParam],
          responses: { '200': scimListResponse('ListResponse of resource types'), ...scimErrors },
        },
      },
      '/scim/v2/ResourceTypes/{id}': {
        get: {
          summary: 'One SCIM resource type',
          tags: ['scim'],
          parameters: [idParam('id')],
          responses: { '200': scimResource('ResourceType'), ...scimErrors },
        },
      },
      '/v1/identities/{id}/offboard': {
        post: {
          summary: 'Offboard an identity: its grants are revoked downstream, its open requests withdrawn, a transfer case opened per NHI it owned',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(OffboardBodySchema),
          responses: { ...accepted('iga.identity.offboarded.v1 recorded', OffboardAcceptedSchema), ...errors },
        },
      },
    },
  };
}
