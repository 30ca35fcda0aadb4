import { defineConnector } from '@grantline/connector-host';
import { LdapGroupConnector } from '@grantline/connector-ldap';
import { loadConnectorConfig } from './connector.config';

/** LDAP group membership (groupOfNames) behind the connector host. */
export const ldapConnector = defineConnector({
  serviceName: 'connector-ldap',
  defaultPort: 3109,
  loadConfig: loadConnectorConfig,
  create: (config) =>
    new LdapGroupConnector({
      id: config.connectorId,
      url: config.ldapUrl,
      bindDn: config.bindDn,
      bindPassword: config.bindPassword,
      groupsBaseDn: config.groupsBaseDn,
      peopleBaseDn: config.peopleBaseDn,
      managedGroupPrefix: config.managedGroupPrefix,
      ...(config.placeholderMemberDn === undefined ? {} : { placeholderMemberDn: config.placeholderMemberDn }),
      pageSize: config.pageSize,
      timeoutMs: config.timeoutMs,
    }),
});
