import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { DestinationStream } from 'pino';
import { BEARER_AUTHENTICATOR, BearerAuthenticator, ProblemDetailsFilter, jwtVerifierFor } from '@grantline/http-edge';
import type { TokenVerifier } from '@grantline/http-edge';
import { JsonLogger, MetricsController, RequestLoggingMiddleware, ServiceMetrics } from '@grantline/service-kit';
import type { MiddlewareConsumer, NestModule } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { GATEWAY_CONFIG } from './config/gateway-config';
import type { GatewayConfig } from './config/gateway-config';
import { ApiDocuments } from './docs/api-documents';
import { DocsController } from './docs/docs.controller';
import { AuthenticatedGuard, PrincipalThrottlerGuard, RouteAndTokenGuard } from './edge/edge.guards';
import { GatewayHealthController } from './health/gateway-health.controller';
import { ForwardController } from './proxy/forward.controller';
import { UpstreamProxy } from './proxy/upstream-proxy';
import { RouteTable } from './routing/route-table';
import type { Route } from './routing/route-table';

export interface GatewayModuleOptions {
  readonly config: GatewayConfig;
  /** Defaults to ROUTES. */
  readonly routes?: readonly Route[];
  /** Defaults to the verifier the auth variables select (as in every service); specs pass their own. */
  readonly verifier?: TokenVerifier;
  /** Defaults to stdout; specs capture records here. */
  readonly logDestination?: DestinationStream;
}

/**
 * The gateway: one origin for every public API. No Kafka, no database: the route table, the edge (route, token,
 * rate limit), the proxy, the merged OpenAPI and the AsyncAPI documents, and the kit's logger, request log (request
 * ids, trace context), metrics and the problem+json filter.
 */
@Module({})
export class GatewayModule implements NestModule {
  static forRoot(options: GatewayModuleOptions): DynamicModule {
    const { config } = options;
    const logger = new JsonLogger({
      serviceName: config.serviceName,
      level: config.logLevel,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    return {
      module: GatewayModule,
      imports: [ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: config.rateWindowMs, limit: config.rateLimit }] })],
      // The forwarding controller last: Nest registers routes in this order, and its catch-all must not hide the others.
      controllers: [GatewayHealthController, MetricsController, DocsController, ForwardController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: JsonLogger, useValue: logger },
        { provide: ServiceMetrics, useValue: new ServiceMetrics(config.serviceName) },
        { provide: RouteTable, useValue: new RouteTable(options.routes) },
        { provide: BEARER_AUTHENTICATOR, useValue: new BearerAuthenticator(options.verifier ?? jwtVerifierFor(config.auth)) },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        RequestLoggingMiddleware,
        RouteAndTokenGuard,
        PrincipalThrottlerGuard,
        AuthenticatedGuard,
        UpstreamProxy,
        ApiDocuments,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLoggingMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
