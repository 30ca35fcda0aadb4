import { Module } from '@nestjs/common';
import type { DynamicModule, Type } from '@nestjs/common';
import { connectorResultsTopic } from '@grantline/contracts';
import { InMemorySecretSink } from '@grantline/connector-sdk';
import type { SecretSink } from '@grantline/connector-sdk';
import { ServiceKitModule } from '@grantline/service-kit';
import type { ServiceKitOptions } from '@grantline/service-kit';
import { ConnectorCommandsHandler } from './commands/connector-commands.handler';
import { CONNECTOR, CONNECTOR_SECRET_SINK, ConnectorRuntime } from './commands/connector-runtime';
import type { ConnectorDefinition } from './connector-definition';
import { CONNECTOR_HOST_CONFIG } from './connector-host.config';
import type { ConnectorHostConfig } from './connector-host.config';

export interface ConnectorHostOptions<C extends ConnectorHostConfig = ConnectorHostConfig> {
  readonly definition: ConnectorDefinition<C>;
  /** Already loaded: the connector id names the topics before Nest builds anything. */
  readonly config: C;
  /** The kit's variables (KAFKA_BROKERS, MONGO_URL, PORT, ...); defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logDestination?: ServiceKitOptions['logDestination'];
  /** Replaces the in-memory sink. */
  readonly secretSink?: SecretSink;
}

/**
 * A connector service: the service kit (configuration, logs, Kafka, MongoDB, health), single writer of
 * `iga.connectors.<id>.results.v1`, and the handler of `iga.connectors.<id>.commands.v1`.
 */
@Module({})
export class ConnectorHostModule {
  static forRoot<C extends ConnectorHostConfig>(options: ConnectorHostOptions<C>): DynamicModule {
    const { definition, config } = options;
    return {
      module: ConnectorHostModule,
      imports: [
        ServiceKitModule.forRoot({
          serviceName: definition.serviceName,
          defaultPort: definition.defaultPort,
          topics: [connectorResultsTopic(config.connectorId)],
          ...(options.env ? { env: options.env } : {}),
          ...(options.logDestination ? { logDestination: options.logDestination } : {}),
        }),
      ],
      controllers: [ConnectorCommandsHandler],
      providers: [
        { provide: CONNECTOR_HOST_CONFIG, useValue: config },
        // Factories, so each app built from these options (a restart in a spec) has its own connector and sink.
        { provide: CONNECTOR, useFactory: () => definition.create(config) },
        { provide: CONNECTOR_SECRET_SINK, useFactory: () => options.secretSink ?? new InMemorySecretSink() },
        ConnectorRuntime,
      ],
      exports: [CONNECTOR_HOST_CONFIG, CONNECTOR, CONNECTOR_SECRET_SINK, ConnectorRuntime],
    };
  }
}

/** The root module `startService`/`bootstrapService` take: they want a class, not a dynamic module. */
export function connectorAppModule<C extends ConnectorHostConfig>(options: ConnectorHostOptions<C>): Type<unknown> {
  @Module({ imports: [ConnectorHostModule.forRoot(options)] })
  class ConnectorAppModule {}
  return ConnectorAppModule;
}
