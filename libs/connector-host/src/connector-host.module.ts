import { Logger, Module } from '@nestjs/common';
import type { DynamicModule, Type } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ConnectorAccessDenied, connectorResultsTopic } from '@grantline/contracts';
import type { AccessDeniedData, EventDefinition } from '@grantline/contracts';
import type { Connector, SecretSink } from '@grantline/connector-sdk';
import { ApiAuthModule, ServiceKitModule } from '@grantline/service-kit';
import type { ServiceKitOptions } from '@grantline/service-kit';
import { CREDENTIAL_VAULT, CredentialRetrievalController } from './credentials/credential-retrieval.controller';
import { ExpiredSecretSweeper } from './credentials/expired-secret.sweeper';
import { SealedSecretVault } from './credentials/sealed-secret.vault';
import { ConnectorCommandsHandler } from './commands/connector-commands.handler';
import { CONNECTOR, CONNECTOR_SECRET_SINK, ConnectorRuntime } from './commands/connector-runtime';
import { ConnectorMetrics } from './commands/connector-metrics';
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
  /** Replaces the sealed vault as the connector's secret sink (specs). */
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
    // The retrieval endpoint (and the bearer auth it needs) exists where secrets are handed over: with a sealing key.
    const handsOver = config.sealingKey !== undefined;
    const retrieval = handsOver
      ? [
          ApiAuthModule.forRoot({
            serviceName: definition.serviceName,
            // The connector's refusals go to its own results topic (single writer), under its connector id.
            deniedEvent: ConnectorAccessDenied as unknown as EventDefinition<string, AccessDeniedData>,
            deniedData: (data) => ({ ...data, connectorId: config.connectorId }) as AccessDeniedData,
            ...(options.env ? { env: options.env } : {}),
          }),
        ]
      : [];
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
        ...retrieval,
      ],
      controllers: [ConnectorCommandsHandler, ...(handsOver ? [CredentialRetrievalController] : []), ...(definition.controllers ?? [])],
      providers: [
        { provide: CONNECTOR_HOST_CONFIG, useValue: config },
        // Factories, so each app built from these options (a restart in a spec) has its own connector and sink.
        { provide: CONNECTOR, useFactory: async (mongo: Connection) => definition.create(config, { mongo }), inject: [getConnectionToken()] },
        {
          provide: CREDENTIAL_VAULT,
          useFactory: (mongo: Connection, connector: Connector): SealedSecretVault | null => {
            if (!config.sealingKey) {
              if (connector.describe().issueCredential && !options.secretSink) {
                new Logger('connector').warn('CREDENTIAL_SEALING_KEY is not set: commands asking for a credential fail, nothing is issued');
              }
              return null;
            }
            return new SealedSecretVault(mongo, config.connectorId, config.sealingKey);
          },
          inject: [getConnectionToken(), CONNECTOR],
        },
        {
          provide: CONNECTOR_SECRET_SINK,
          // No sink without a key: the runner then refuses credential commands terminally (fail closed).
          useFactory: (vault: SealedSecretVault | null): SecretSink | null => options.secretSink ?? vault,
          inject: [CREDENTIAL_VAULT],
        },
        ConnectorRuntime,
        ConnectorMetrics,
        ExpiredSecretSweeper,
        ...(definition.providers ?? []),
      ],
      exports: [CONNECTOR_HOST_CONFIG, CONNECTOR, CONNECTOR_SECRET_SINK, CREDENTIAL_VAULT, ConnectorRuntime],
    };
  }
}

/** The root module `startService`/`bootstrapService` take: they want a class, not a dynamic module. */
export function connectorAppModule<C extends ConnectorHostConfig>(options: ConnectorHostOptions<C>): Type<unknown> {
  @Module({ imports: [ConnectorHostModule.forRoot(options)] })
  class ConnectorAppModule {}
  return ConnectorAppModule;
}
