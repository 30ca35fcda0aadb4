import { undocumentedOperationsOf } from '@grantline/http-edge';
import type { OpenApiDocumentLike } from '@grantline/http-edge';
import { previewServiceOpenApi } from '@grantline/service-kit';
import { buildOpenApiDocument } from './openapi.document';

// The kit reads its configuration when the app module is imported; nothing is dialled in preview mode.
process.env['KAFKA_BROKERS'] ??= '127.0.0.1:9';
process.env['MONGO_URL'] ??= 'mongodb://127.0.0.1:9';

describe('intake OpenAPI document', () => {
  const document = buildOpenApiDocument() as unknown as OpenApiDocumentLike;

  it('types every request body and success answer from the zod schemas the routes use', () => {
    expect(undocumentedOperationsOf(document)).toEqual([]);
  });

  it('documents every route the controllers serve, with the body and query each reads', async () => {
    const { AppModule, SERVICE_NAME } = await import('../app.module');
    const { routes } = await previewServiceOpenApi(AppModule, SERVICE_NAME);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(expect.arrayContaining(['post /v1/requests', 'get /scim/v2/Users']));
    expect(undocumentedOperationsOf(document, routes)).toEqual([]);
  });
});
