import { Module } from '@nestjs/common';
import { connectorResultsTopic } from '@grantline/contracts';
import { ServiceKitModule } from '@grantline/service-kit';
import { CommandsModule } from './commands/commands.module';
import { loadConnectorConfig } from './commands/connector.config';

export const SERVICE_NAME = 'connector-postgres';
export const DEFAULT_PORT = 3107;

/** The connector id for topic creation at import time; a bad environment is reported when Nest builds CommandsModule. */
export function configuredConnectorId(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return loadConnectorConfig(env).connectorId;
  } catch {
    return 'postgres';
  }
}

/**
 * The PostgreSQL connector service: single writer of its results topic (`iga.connectors.<id>.results.v1`),
 * reader of its commands topic. The kit brings configuration, logs, Kafka and health.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: [connectorResultsTopic(configuredConnectorId())] }),
    CommandsModule.forRoot(),
  ],
})
export class AppModule {}
