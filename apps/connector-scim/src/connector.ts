import { defineConnector } from '@grantline/connector-host';
import { ScimGroupConnector } from '@grantline/connector-scim';
import { loadConnectorConfig } from './connector.config';

/** SCIM 2.0 group membership in a SaaS application, behind the connector host. */
export const scimConnector = defineConnector({
  serviceName: 'connector-scim',
  defaultPort: 3111,
  loadConfig: loadConnectorConfig,
  create: (config) =>
    new ScimGroupConnector({
      id: config.connectorId,
      baseUrl: config.scimUrl,
      bearerToken: config.bearerToken,
      managedGroups: { prefix: config.managedGroupPrefix },
      requestTimeoutMs: config.requestTimeoutMs,
      pageSize: config.pageSize,
    }),
});
