import { RouteTable } from '../routing/route-table';
import { SERVICE_EXTENSION, mergeOpenApi } from './openapi-merge';
import type { OpenApiDocument } from './openapi-merge';

const ok = { responses: { '200': { description: 'ok' } } };
const own: OpenApiDocument = { openapi: '3.0.0', info: {}, paths: { '/health/live': { get: ok }, '/openapi.json': { get: ok } } };

describe('mergeOpenApi', () => {
  const routes = new RouteTable();

  it("keeps each service's routed operations, marked with the service, and the gateway's own", () => {
    const intake: OpenApiDocument = {
      openapi: '3.1.0',
      info: {},
      security: [{ bearer: [] }],
      paths: { '/v1/requests/{id}': { get: ok, parameters: [{ name: 'id', in: 'path' }] }, '/health/live': { get: ok }, '/metrics': { get: ok } },
    };
    const audit: OpenApiDocument = { openapi: '3.0.0', info: {}, paths: { '/v1/audit/grants': { get: { ...ok, security: [] } } } };
    const { document, unrouted, unavailable } = mergeOpenApi({ own, services: { intake, audit } }, routes);
    expect(Object.keys(document.paths)).toEqual(['/health/live', '/openapi.json', '/v1/audit/grants', '/v1/requests/{id}']);
    expect(document.paths['/v1/requests/{id}']?.['get']).toMatchObject({ [SERVICE_EXTENSION]: 'intake', security: [{ bearer: [] }] });
    // an operation's own security wins over the document's
    expect(document.paths['/v1/audit/grants']?.['get']).toMatchObject({ [SERVICE_EXTENSION]: 'audit', security: [] });
    // the service's probes are its own: the gateway's are documented at those paths
    expect(document.paths['/health/live']?.['get']).toMatchObject({ [SERVICE_EXTENSION]: 'gateway' });
    expect(document.paths['/metrics']).toBeUndefined();
    expect(document.paths['/v1/requests/{id}']?.['parameters']).toEqual([{ name: 'id', in: 'path' }]);
    expect(unrouted).toEqual([]);
    expect(unavailable).toEqual([]);
    expect(document['x-grantline-shadowed']).toBeUndefined();
  });

  it('reports operations under a path no row routes, and those the table sends to another service', () => {
    const policy: OpenApiDocument = {
      openapi: '3.0.0',
      info: {},
      paths: { '/v1/policy/simulate': { post: ok }, '/v1/newthing': { get: ok, post: ok }, '/v1/audit/x': { get: ok } },
    };
    const { document, unrouted, shadowed } = mergeOpenApi({ own, services: { policy } }, routes);
    expect(unrouted).toEqual(['policy GET /v1/newthing', 'policy POST /v1/newthing']);
    expect(shadowed).toEqual(['policy GET /v1/audit/x -> audit']);
    expect(document['x-grantline-unrouted']).toEqual(unrouted);
    expect(document['x-grantline-shadowed']).toEqual(shadowed);
    expect(document.paths['/v1/newthing']).toBeUndefined();
    expect(document.paths['/v1/audit/x']).toBeUndefined();
  });

  it('names the services that did not answer', () => {
    const { document, unavailable } = mergeOpenApi({ own, services: { intake: undefined } }, routes);
    expect(unavailable).toEqual(['intake']);
    expect(document['x-grantline-unavailable']).toEqual(['intake']);
  });

  it('shares identical components and renames a colliding one in the second service, references included', () => {
    const shared = { type: 'object', properties: { id: { type: 'string' } } };
    const intake: OpenApiDocument = {
      openapi: '3.1.0',
      info: {},
      paths: { '/v1/requests': { post: { ...ok, requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Body' } } } } } } },
      components: { schemas: { Body: { type: 'object', properties: { a: { type: 'string' } } }, Id: shared } },
    };
    const approval: OpenApiDocument = {
      openapi: '3.0.0',
      info: {},
      paths: { '/v1/campaigns': { post: { ...ok, requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Body' } } } } } } },
      components: { schemas: { Body: { type: 'object', properties: { b: { $ref: '#/components/schemas/Id' } } }, Id: shared } },
    };
    const { document } = mergeOpenApi({ own, services: { intake, approval } }, routes);
    expect(Object.keys(document.components?.['schemas'] ?? {}).sort()).toEqual(['Body', 'Id', 'approval.Body']);
    expect(JSON.stringify(document.paths['/v1/campaigns'])).toContain('#/components/schemas/approval.Body');
    expect(JSON.stringify(document.paths['/v1/requests'])).toContain('"#/components/schemas/Body"');
  });
});
