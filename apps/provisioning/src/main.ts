import { JsonLogger, bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';
import { loadProvisioningConfig } from './grants/provisioning.config';
import type { ProvisioningConfig } from './grants/provisioning.config';

let config: ProvisioningConfig;
try {
  config = loadProvisioningConfig(process.env);
} catch (error) {
  new JsonLogger({ serviceName: SERVICE_NAME, context: 'bootstrap' }).fatal('cannot read configuration', error);
  process.exit(1);
}

// Transactional: the grant events, the connector commands and the consumed offset commit together.
// From the beginning: a new deployment provisions every approval already on the log (grant ids make it idempotent).
// One active instance (ADR 0012): a second one waits as a standby, so no grant is provisioned twice.
void bootstrapService(AppModule, {
  serviceName: SERVICE_NAME,
  defaultPort: DEFAULT_PORT,
  transactional: true,
  fromBeginning: true,
  connectorIds: config.connectorIds,
  lease: true,
});
