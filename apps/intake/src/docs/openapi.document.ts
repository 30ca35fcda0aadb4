import { z } from 'zod';
import { IdentitySchema } from '@grantline/contracts';
import { OffboardBodySchema, RevokeBodySchema, SubmitRequestBodySchema, WithdrawBodySchema } from '../requests/request-body.schema';
import { AttributesBodySchema } from '../identities/identity-attributes.schema';
import { AcceptOwnerTransferBodySchema, ProposeOwnerTransferBodySchema } from '../identities/identities.controller';
import { ScimGroupBodySchema } from '../scim/scim-group.schema';
import { PatchOpBodySchema } from '../scim/scim-patch.schema';
import { ScimUserBodySchema } from '../scim/scim-user.schema';

type JsonSchema = Record<string, unknown>;
const schemaOf = (schema: z.ZodType): JsonSchema => {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return json;
};

const problem = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const errors = {
  '400': { ...problem, description: 'Invalid input: `errors` names each bad field; nothing was written' },
  '401': { ...problem, description: 'Missing, expired, unsigned, wrong-issuer or wrong-audience token' },
  '403': { ...problem, description: 'The caller may not do this (see docs/authorization.md); the attempt is recorded, nothing else is written' },
  '404': { ...problem, description: 'Unknown — or not visible to the caller, answered exactly alike; a refused attempt is recorded' },
  '409': { ...problem, description: 'Refused in the current state (e.g. the request is already closed); nothing was written' },
  '413': { ...problem, description: 'Body larger than the limit (2 MB by default)' },
  '422': { ...problem, description: 'Idempotency-Key already bound to a different request: nothing was published' },
  '503': { ...problem, description: 'Kafka did not acknowledge the event: nothing was accepted; retry with the same key' },
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Same key + same body → the original answer (header Idempotent-Replayed: true); same key + other body → 422, nothing published. A key is bound to the first request sent with it, even one that failed. A call whose key is still running on the same instance waits for it.',
  schema: { type: 'string', maxLength: 200 },
};
/** SCIM 2.0 (RFC 7644) answers errors as `urn:ietf:params:scim:api:messages:2.0:Error` in application/scim+json. */
const scimError = {
  description: 'SCIM error (RFC 7644 §3.12): status, scimType, detail',
  content: { 'application/scim+json': { schema: { type: 'object' } } },
};
const scimErrors = {
  '400': scimError,
  '401': scimError,
  '403': { ...scimError, description: 'Not an identity-source principal; the attempt is recorded' },
  '404': scimError,
};
const scimResource = (description: string) => ({ description, content: { 'application/scim+json': { schema: { type: 'object' } } } });
const scimBody = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/scim+json': { schema: schemaOf(schema) }, 'application/json': { schema: schemaOf(schema) } },
});
const scimListParams = ['filter', 'startIndex', 'count'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }));
/** One SCIM resource type's collection and item paths (identity-source only). */
const scimResourcePaths = (name: 'Users' | 'Groups', schema: z.ZodType): Record<string, unknown> => ({
  [`/scim/v2/${name}`]: {
    get: {
      summary: `List ${name} (filter, startIndex, count)`,
      tags: ['scim'],
      parameters: scimListParams,
      responses: { '200': scimResource('ListResponse'), ...scimErrors },
    },
    post: {
      summary: `Create a ${name.slice(0, -1)}`,
      tags: ['scim'],
      requestBody: scimBody(schema),
      responses: { '201': scimResource('Created'), '409': scimError, ...scimErrors },
    },
  },
  [`/scim/v2/${name}/{id}`]: {
    get: {
      summary: `One ${name.slice(0, -1)}`,
      tags: ['scim'],
      parameters: [idParam('id')],
      responses: { '200': scimResource('The resource'), ...scimErrors },
    },
    put: {
      summary: `Replace a ${name.slice(0, -1)}`,
      tags: ['scim'],
      parameters: [idParam('id')],
      requestBody: scimBody(schema),
      responses: { '200': scimResource('Replaced'), '412': scimError, ...scimErrors },
    },
    patch: {
      summary: `Patch a ${name.slice(0, -1)} (PatchOp)`,
      tags: ['scim'],
      parameters: [idParam('id')],
      requestBody: scimBody(PatchOpBodySchema),
      responses: { '200': scimResource('Patched'), '412': scimError, ...scimErrors },
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
const accepted = (description: string) => ({ '202': { description, content: { 'application/json': { schema: { type: 'object' } } } } });
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
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
    paths: {
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'The process answers' } } } },
      '/health/ready': {
        get: {
          summary: 'Readiness: Kafka and MongoDB answer',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'A dependency is down' } },
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
        get: { summary: 'AUTH_MODE=dev only: the dev issuer public keys', security: [], responses: { '200': { description: 'JWKS' }, '404': problem } },
      },
      '/dev-issuer/.well-known/openid-configuration': {
        get: {
          summary: 'AUTH_MODE=dev only: the dev issuer discovery document',
          security: [],
          responses: { '200': { description: 'OpenID provider metadata (issuer, jwks_uri)' } },
        },
      },
      '/v1/requests': {
        post: {
          summary: 'Submit an access request',
          parameters: [idempotencyKey],
          requestBody: body(SubmitRequestBodySchema),
          responses: { ...accepted('Recorded on iga.requests.v1 as iga.request.submitted.v2'), ...errors },
        },
      },
      '/v1/requests/{id}': {
        get: {
          summary: 'A request with its status, grants and timeline',
          parameters: [idParam('id')],
          responses: { '200': { description: 'The request' }, '401': errors['401'], '404': errors['404'] },
        },
      },
      '/v1/requests/{id}/withdraw': {
        post: {
          summary: 'Withdraw a request',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(WithdrawBodySchema),
          responses: { ...accepted('iga.request.withdrawn.v1 recorded'), ...errors },
        },
      },
      '/v1/grants/{id}/revoke': {
        post: {
          summary: 'Request revocation of a grant',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(RevokeBodySchema),
          responses: { ...accepted('iga.revocation.requested.v1 recorded'), ...errors },
        },
      },
      '/v1/identities/{id}': {
        put: {
          summary: 'Upsert a person (with manager) or a non-human identity (with owner of record)',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schemaOf(IdentitySchema) } } },
          responses: { ...accepted('iga.identity.upserted.v1 recorded'), ...errors },
        },
      },
      '/v1/identities/{id}/attributes': {
        patch: {
          summary: 'Set attributes owned by a source other than the identity source (onCall: the on-call system); null removes one',
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(AttributesBodySchema),
          responses: { ...accepted('iga.identity.upserted.v1 recorded with the whole record'), ...errors },
        },
      },
      '/v1/identities/{id}/owner-transfers': {
        post: {
          summary: "Propose a new owner of record for a machine identity (its owner, the owner's manager, the identity source or an administrator)",
          parameters: [idParam('id'), idempotencyKey],
          requestBody: body(ProposeOwnerTransferBodySchema),
          responses: { ...accepted('iga.identity.owner-transfer-proposed.v1 recorded; nothing changes until the proposed owner accepts'), ...errors },
        },
      },
      '/v1/identities/{id}/owner-transfers/{transferId}/accept': {
        post: {
          summary: 'The proposed owner accepts: the owner of record changes',
          parameters: [idParam('id'), idParam('transferId'), idempotencyKey],
          requestBody: body(AcceptOwnerTransferBodySchema),
          responses: { ...accepted('iga.identity.owner-changed.v1 recorded (reason transfer)'), ...errors },
        },
      },
      ...scimResourcePaths('Users', ScimUserBodySchema),
      ...scimResourcePaths('Groups', ScimGroupBodySchema),
      '/scim/v2/ServiceProviderConfig': {
        get: { summary: 'SCIM service provider configuration', tags: ['scim'], responses: { '200': scimResource('ServiceProviderConfig'), ...scimErrors } },
      },
      '/scim/v2/Schemas': { get: { summary: 'SCIM schemas', tags: ['scim'], responses: { '200': scimResource('ListResponse of schemas'), ...scimErrors } } },
      '/scim/v2/Schemas/{id}': {
        get: { summary: 'One SCIM schema', tags: ['scim'], parameters: [idParam('id')], responses: { '200': scimResource('Schema'), ...scimErrors } },
      },
      '/scim/v2/ResourceTypes': {
        get: { summary: 'SCIM resource types', tags: ['scim'], responses: { '200': scimResource('ListResponse of resource types'), ...scimErrors } },
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
          responses: { ...accepted('iga.identity.offboarded.v1 recorded'), ...errors },
        },
      },
    },
  };
}
