import { Module } from '@nestjs/common';
import { connectorCommandsTopic } from '@grantline/contracts';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { GrantsModule } from './grants/grants.module';
import { loadProvisioningConfig } from './grants/provisioning.config';

export const SERVICE_NAME = 'provisioning';
export const DEFAULT_PORT = 3104;

/** Connector ids for topic creation at import time; a bad value is reported when Nest builds GrantsModule. */
function configuredConnectorIds(): readonly string[] {
  try {
    return loadProvisioningConfig().connectorIds;
  } catch {
    return [];
  }
}

/**
 * The topics created at start: the grants topic and one commands topic per configured connector (failure
 * alerts are the notifier's, derived from `iga.grant.provisioning-failed.v1`).
 */
export function provisioningTopics(connectorIds: readonly string[]): string[] {
  return [...topicsOwnedBy(SERVICE_NAME), ...connectorIds.map((id) => connectorCommandsTopic(id))];
}

/**
 * The provisioning service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service writes) and the health endpoints; the grant lifecycle goes beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: provisioningTopics(configuredConnectorIds()) }),
    GrantsModule.forRoot(),
  ],
})
export class AppModule {}
