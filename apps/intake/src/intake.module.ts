import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Clock } from '@grantline/decider';
import { devJwks, ensureDevIssuerKey } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { RequestAccess } from './authorization/request-access';
import { DEV_JWKS, DevIssuerController } from './auth/dev-issuer.controller';
import { CatalogService, LOADED_CATALOG } from './catalog/catalog.service';
import { loadCatalogDirectory } from './catalog/catalog-file.schema';
import { INTAKE_CONFIG } from './config/intake-config';
import type { IntakeConfig } from './config/intake-config';
import { HttpPlatformSetup } from './http/http-platform.setup';
import { IdempotentEndpoint } from './http/idempotent-endpoint';
import { IdentitiesController } from './identities/identities.controller';
import { IDENTITY_COMMAND_HANDLERS } from './identities/identity-command-handlers';
import { OwnershipCases } from './identities/ownership-cases.store';
import { OwnerTransfers } from './identities/owner-transfers.store';
import { IntakeCoreModule } from './intake-core.module';
import { ScimModule } from './scim/scim.module';
import { IDEMPOTENCY_STORE } from './idempotency/idempotency';
import { MongoIdempotencyStore } from './idempotency/mongo-idempotency.store';
import { ItsmInboundHandler, itsmInboundGroupProvider } from './itsm/itsm-inbound.handler';
import { REQUEST_COMMAND_HANDLERS } from './requests/request-command-handlers';
import { RequestsController } from './requests/requests.controller';
import { AcceptedRequests } from './status/accepted-requests';
import { LifecycleEventsHandler } from './status/lifecycle-events.handler';
import { RequestStatusStore, RevocationTickets } from './status/request-status.store';
import type { JSONWebKeySet } from 'jose';

/**
 * The intake's domain: HTTP API (authenticated and authorized by the kit's ApiAuthModule, imported by the app), the catalogue, idempotency, the request read model and the ITSM
 * intake. Needs the kit's MongoDB connection and messaging (EVENT_PUBLISHER, EVENT_REGISTRY). The controllers
 * dispatch their writes on the CommandBus; the kit's startService runs the lifecycle hooks (CqrsModule registers the
 * handlers in one) before it listens or consumes. Two consumer groups: the main one (`LifecycleEventsHandler`, the
 * `@EventPattern` handlers) and the ITSM group (`ItsmInboundGroup`), started after startService by `startConsumerGroups`.
 */
@Module({
  imports: [IntakeCoreModule, ScimModule, CqrsModule.forRoot()],
  controllers: [RequestsController, IdentitiesController, DevIssuerController, LifecycleEventsHandler],
  providers: [
    { provide: LOADED_CATALOG, useFactory: (config: IntakeConfig) => loadCatalogDirectory(config.catalogDir), inject: [INTAKE_CONFIG] },
    {
      provide: DEV_JWKS,
      useFactory: async (config: IntakeConfig): Promise<JSONWebKeySet | undefined> =>
        config.authMode === 'dev' ? devJwks(await ensureDevIssuerKey(config.devIssuerDir)) : undefined,
      inject: [INTAKE_CONFIG],
    },
    { provide: IDEMPOTENCY_STORE, useFactory: (connection: Connection) => new MongoIdempotencyStore(connection), inject: [getConnectionToken()] },
    { provide: AcceptedRequests, useFactory: () => new AcceptedRequests() },
    {
      provide: RequestStatusStore,
      useFactory: (connection: Connection, clock: Clock) => new RequestStatusStore(connection, clock),
      inject: [getConnectionToken(), CLOCK],
    },
    { provide: RevocationTickets, useFactory: (connection: Connection) => new RevocationTickets(connection), inject: [getConnectionToken()] },
    { provide: OwnerTransfers, useFactory: (connection: Connection) => new OwnerTransfers(connection), inject: [getConnectionToken()] },
    { provide: OwnershipCases, useFactory: (connection: Connection) => new OwnershipCases(connection), inject: [getConnectionToken()] },
    HttpPlatformSetup,
    IdempotentEndpoint,
    RequestAccess,
    CatalogService,
    ItsmInboundHandler,
    itsmInboundGroupProvider,
    ...REQUEST_COMMAND_HANDLERS,
    ...IDENTITY_COMMAND_HANDLERS,
  ],
})
export class IntakeModule {}
