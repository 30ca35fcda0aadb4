import { undocumentedOperationsOf } from '@grantline/http-edge';
import { previewServiceOpenApi } from '@grantline/service-kit';

// The kit reads its configuration when the app module is imported; nothing is dialled in preview mode.
process.env['KAFKA_BROKERS'] ??= '127.0.0.1:9';
process.env['MONGO_URL'] ??= 'mongodb://127.0.0.1:9';

describe('notifier OpenAPI document', () => {
  it('types every success answer (health and metrics: the service has no API of its own yet)', async () => {
    const { AppModule, SERVICE_NAME } = await import('./app.module');
    const { document, routes } = await previewServiceOpenApi(AppModule, SERVICE_NAME);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(expect.arrayContaining(['get /health/ready', 'get /metrics']));
    expect(undocumentedOperationsOf(document, routes)).toEqual([]);
  });
});
