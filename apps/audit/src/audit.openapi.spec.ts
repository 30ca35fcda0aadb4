import { undocumentedOperationsOf } from '@grantline/http-edge';
import { previewServiceOpenApi } from '@grantline/service-kit';

// The kit reads its configuration when the app module is imported; nothing is dialled in preview mode.
process.env['KAFKA_BROKERS'] ??= '127.0.0.1:9';
process.env['MONGO_URL'] ??= 'mongodb://127.0.0.1:9';

describe('audit OpenAPI document', () => {
  it('types every request body, query and success answer from the zod schemas the routes use', async () => {
    const { AppModule, SERVICE_NAME } = await import('./app.module');
    const { document, routes } = await previewServiceOpenApi(AppModule, SERVICE_NAME);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(expect.arrayContaining(['get /v1/audit/grants', 'get /v1/audit/evidence']));
    expect(undocumentedOperationsOf(document, routes)).toEqual([]);
  });
});
