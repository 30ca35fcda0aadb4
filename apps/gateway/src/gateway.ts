import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { JsonLogger, startTelemetry } from '@grantline/service-kit';
import { ApiDocuments } from './docs/api-documents';
import type { OpenApiDocument } from './docs/openapi-merge';
import { GatewayModule } from './app.module';
import type { GatewayModuleOptions } from './app.module';

export interface RunningGateway {
  readonly app: INestApplication;
  readonly logger: JsonLogger;
  /** Where it listens, e.g. http://127.0.0.1:3100 (the real port when PORT=0). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Creates the gateway and listens on HOST:PORT. Bodies are not parsed: they stream to the service untouched (the
 * service validates them and names the bad fields). `/docs` shows the merged document (Swagger UI), like each
 * service's `/docs` shows its own.
 */
export async function startGateway(options: GatewayModuleOptions): Promise<RunningGateway> {
  const { config } = options;
  startTelemetry(config.serviceName);
  const app = await NestFactory.create(GatewayModule.forRoot(options), { bodyParser: false, bufferLogs: true, abortOnError: false });
  try {
    const logger = app.get(JsonLogger);
    app.useLogger(logger);
    app.flushLogs();
    const documents = app.get(ApiDocuments);
    const own = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Grantline gateway').setVersion('1').build());
    documents.setOwnDocument(own as unknown as OpenApiDocument);
    // Set up before the routes are registered (listen), so /docs is not taken by the catch-all.
    SwaggerModule.setup('docs', app, own, { patchDocumentOnRequest: async () => (await documents.openApi()).document as unknown as typeof own });
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
    logger.log({ msg: 'ready', port: address.port, host: config.host, url, upstreams: config.upstreams }, 'bootstrap');
    let stopping: Promise<void> | undefined;
    return {
      app,
      logger,
      url,
      stop: () => {
        stopping ??= app.close();
        return stopping;
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
