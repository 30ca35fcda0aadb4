import { Module } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule, OnModuleInit } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { INTAKE_CONFIG, loadIntakeConfig } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';
import { IntakePublisher } from '../publishing/intake-publisher';
import { IdentityDirectory } from '../status/request-status.store';
import { ScimDiscoveryController } from './scim-discovery.controller';
import { ScimErrorFilter } from './scim-error.filter';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimGroupsService } from './scim-groups.service';
import { ScimIdentityPublisher } from './scim-identity.publisher';
import { ScimJsonBodyParser } from './scim-json.middleware';
import { ScimUsersController } from './scim-users.controller';
import { ScimUsersService } from './scim-users.service';
import { ScimStore } from './scim.store';

/**
 * SCIM 2.0 inbound (RFC 7643 / RFC 7644) for the identity provider: /scim/v2/Users, /Groups and the discovery
 * endpoints. Needs what the service kit and ApiAuthModule provide globally (the MongoDB connection, EVENT_PUBLISHER /
 * EVENT_REGISTRY, BEARER_AUTHENTICATOR, DENIED_ATTEMPTS).
 *
 * IntakePublisher and IdentityDirectory are provided here again rather than injected from IntakeModule: a Nest module
 * sees only its own providers and what the modules it imports export, not those of the module importing it, and
 * IntakeModule exports nothing. Both are stateless over the shared Kafka producer and MongoDB connection (the
 * directory's lock is per instance, like every other instance of the intake's), so importing ScimModule into
 * IntakeModule, or beside it, is the only wiring needed.
 */
@Module({
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController],
  providers: [
    { provide: INTAKE_CONFIG, useFactory: (): IntakeConfig => loadIntakeConfig() },
    IntakePublisher,
    { provide: IdentityDirectory, useFactory: (connection: Connection) => new IdentityDirectory(connection), inject: [getConnectionToken()] },
    { provide: ScimStore, useFactory: (connection: Connection) => new ScimStore(connection), inject: [getConnectionToken()] },
    ScimIdentityPublisher,
    ScimUsersService,
    ScimGroupsService,
    ScimErrorFilter,
    ScimJsonBodyParser,
  ],
})
export class ScimModule implements NestModule, OnModuleInit {
  constructor(private readonly store: ScimStore) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ScimJsonBodyParser).forRoutes(ScimUsersController, ScimGroupsController);
  }

  async onModuleInit(): Promise<void> {
    await this.store.ensureIndexes();
  }
}
