import { JsonLogger, bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';
import { loadConnectorConfig } from './commands/connector.config';
import type { ConnectorConfig } from './commands/connector.config';

let config: ConnectorConfig;
try {
  config = loadConnectorConfig(process.env);
} catch (error) {
  new JsonLogger({ serviceName: SERVICE_NAME, context: 'bootstrap' }).fatal('cannot read configuration', error);
  process.exit(1);
}

// Transactional: a result is published together with the commit of the command it answers.
void bootstrapService(AppModule, {
  serviceName: SERVICE_NAME,
  defaultPort: DEFAULT_PORT,
  groupId: `${SERVICE_NAME}-${config.connectorId}`,
  transactional: true,
  fromBeginning: true,
  connectorIds: [config.connectorId],
});
