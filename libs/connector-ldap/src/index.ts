export { LdapGroupConnector } from './ldap-group.connector';
export type { LdapGroupConnectorOptions } from './ldap-group.connector';
export { LDAP_RESULT_CODES, classifyLdapError, ldapResultCode, toLdapConnectorError } from './ldap-error.classifier';
export { accountDn, accountOfMemberDn, assertBaseDn, assertLdapName, groupDn, isLdapName, normalizeDn } from './ldap-names';
export type { LdapLayout } from './ldap-names';
