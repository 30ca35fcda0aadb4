import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { INTAKE_CONFIG } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';
import { buildOpenApiDocument } from '../docs/openapi.document';

interface ExpressLikeAdapter {
  useBodyParser(type: 'json', rawBody: boolean, options: { limit: number }): unknown;
  useStaticAssets(path: string, options: unknown): unknown;
}

/**
 * Shapes the HTTP platform from inside the module, because the kit's `startService` owns app creation:
 * - a JSON body limit large enough that an oversized field (a 1 MB justification) reaches validation and is
 *   reported by name; it must be installed while instances are created, before Nest adds its 100 kB default;
 * - the OpenAPI document and Swagger UI at `/docs` (JSON at `/docs-json`), mounted in onModuleInit, i.e.
 *   before Nest's 404 handler is registered.
 */
@Injectable()
export class HttpPlatformSetup implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(INTAKE_CONFIG) config: IntakeConfig,
  ) {
    const adapter = this.adapterHost.httpAdapter as unknown as ExpressLikeAdapter | undefined;
    adapter?.useBodyParser('json', false, { limit: config.bodyLimitBytes });
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    // SwaggerModule only needs the adapter and static assets from the app; the kit does not hand us the app.
    const host = {
      getHttpAdapter: () => adapter,
      useStaticAssets: (path: string, options: unknown) => (adapter as unknown as ExpressLikeAdapter).useStaticAssets(path, options),
    };
    SwaggerModule.setup('docs', host as unknown as Parameters<typeof SwaggerModule.setup>[1], buildOpenApiDocument() as unknown as OpenAPIObject);
  }
}
