import { Module } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule, OnModuleInit } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { IntakeCoreModule } from '../intake-core.module';
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
 * The publisher and the identity directory are the intake's own (IntakeCoreModule), shared with its HTTP API.
 */
@Module({
  imports: [IntakeCoreModule],
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController],
  providers: [
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
