import { defineConnector } from '@grantline/connector-host';
import { CredentialIssuerConnector, ensureDevIssuerKeys, loadIssuerKeys } from '@grantline/credential-issuer';
import { CredentialIssuerController } from './credential-issuer.controller';
import { loadConnectorConfig } from './connector.config';
import { MongoCredentialLedger } from './mongo-credential.ledger';

export const credentialsConnector = defineConnector({
  serviceName: 'connector-credentials',
  defaultPort: 3112,
  loadConfig: loadConnectorConfig,
  create: async (config, { mongo }) =>
    new CredentialIssuerConnector({
      id: config.connectorId,
      issuer: config.issuer,
      keys: await loadIssuerKeys(config.keys.kind === 'files' ? config.keys.files : await ensureDevIssuerKeys(config.keys.dir)),
      ledger: new MongoCredentialLedger(mongo, config.connectorId),
      entitlements: config.entitlements,
      managedPrefix: config.managedPrefix,
      crlValidityMs: config.crlValidityMs,
    }),
  controllers: [CredentialIssuerController],
});
