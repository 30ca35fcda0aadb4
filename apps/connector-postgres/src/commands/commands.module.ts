import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { ConnectorCommandsHandler } from './connector-commands.handler';
import { ConnectorRuntime } from './connector-runtime';
import { CONNECTOR_CONFIG, loadConnectorConfig } from './connector.config';
import type { ConnectorConfig } from './connector.config';

/** Commands in, results out. Without an explicit config it reads the environment when Nest builds the app. */
@Module({})
export class CommandsModule {
  static forRoot(config?: ConnectorConfig): DynamicModule {
    return {
      module: CommandsModule,
      controllers: [ConnectorCommandsHandler],
      providers: [
        config ? { provide: CONNECTOR_CONFIG, useValue: config } : { provide: CONNECTOR_CONFIG, useFactory: () => loadConnectorConfig() },
        ConnectorRuntime,
      ],
      exports: [CONNECTOR_CONFIG, ConnectorRuntime],
    };
  }
}
