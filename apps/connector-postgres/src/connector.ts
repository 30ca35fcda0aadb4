import { defineConnector } from '@grantline/connector-host';
import { PostgresRoleConnector } from '@grantline/connector-postgres';
import { loadConnectorConfig } from './connector.config';

/** PostgreSQL role membership behind the connector host. */
export const postgresConnector = defineConnector({
  serviceName: 'connector-postgres',
  defaultPort: 3107,
  loadConfig: loadConnectorConfig,
  create: (config) =>
    new PostgresRoleConnector({
      id: config.connectorId,
      connection: { connectionString: config.pgUrl, max: 4 },
      managedRoles: { prefix: config.managedRolePrefix },
      credentialRolePrefix: config.credentialRolePrefix,
      statementTimeoutMs: config.statementTimeoutMs,
    }),
});
