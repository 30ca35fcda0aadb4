import { z } from 'zod';
import { connectorConfigLoader } from '@grantline/connector-host';

const DN = /^[A-Za-z][A-Za-z0-9-]*=[^,=+"\\<>;#\0]+(,[A-Za-z][A-Za-z0-9-]*=[^,=+"\\<>;#\0]+)*$/;
const dn = (example: string): z.ZodString =>
  z
    .string()
    .trim()
    .regex(DN, { message: `expected a plain DN, e.g. ${example}` });

/** The target's variables; CONNECTOR_ID and CONNECTOR_MAX_ATTEMPTS / CONNECTOR_RETRY_* are the host's. */
export const LdapEnvSchema = z.object({
  LDAP_URL: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/, { message: 'expected ldap://host:port or ldaps://host:port' }),
  /** The connector's bind: write access to `member` of the managed groups, read access to the accounts. */
  LDAP_BIND_DN: dn('cn=grantline-connector,dc=example,dc=com'),
  /** Never logged, never echoed in an error. */
  LDAP_BIND_PASSWORD: z.string().min(1, { message: 'Required' }),
  /** Groups are cn=<externalRef>,<LDAP_GROUPS_BASE_DN> (objectClass groupOfNames). */
  LDAP_GROUPS_BASE_DN: dn('ou=groups,dc=example,dc=com'),
  /** Accounts are uid=<account>,<LDAP_PEOPLE_BASE_DN>. */
  LDAP_PEOPLE_BASE_DN: dn('ou=people,dc=example,dc=com'),
  /** Only groups whose cn starts with this are ever granted, revoked or listed. */
  LDAP_MANAGED_GROUP_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/)
    .default('grantline-'),
  /** What an emptied group keeps as its one member (groupOfNames needs one); default cn=grantline-placeholder,<people base>. */
  LDAP_PLACEHOLDER_MEMBER_DN: dn('cn=grantline-placeholder,ou=people,dc=example,dc=com').optional(),
  LDAP_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  LDAP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

export const loadConnectorConfig = connectorConfigLoader({
  defaultConnectorId: 'ldap',
  env: LdapEnvSchema,
  target: (env) => ({
    ldapUrl: env.LDAP_URL,
    bindDn: env.LDAP_BIND_DN,
    bindPassword: env.LDAP_BIND_PASSWORD,
    groupsBaseDn: env.LDAP_GROUPS_BASE_DN,
    peopleBaseDn: env.LDAP_PEOPLE_BASE_DN,
    managedGroupPrefix: env.LDAP_MANAGED_GROUP_PREFIX,
    ...(env.LDAP_PLACEHOLDER_MEMBER_DN === undefined ? {} : { placeholderMemberDn: env.LDAP_PLACEHOLDER_MEMBER_DN }),
    pageSize: env.LDAP_PAGE_SIZE,
    timeoutMs: env.LDAP_TIMEOUT_MS,
  }),
});

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;
