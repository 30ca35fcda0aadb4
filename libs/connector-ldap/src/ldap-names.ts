import { ConnectorError } from '@grantline/connector-sdk';

/**
 * What may stand as a group's `cn` or an account's `uid` in a DN this connector builds: letters, digits, `.`, `_`,
 * `-`. Nothing that needs escaping in a DN (RFC 4514) or a filter (RFC 4515), so no name can change the shape of a
 * request (no `,`, `+`, `=`, `*`, `(`, `\`, NUL).
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A base DN given in configuration: plain `attr=value` RDNs joined by commas, values without escapes. */
const BASE_DN = /^[A-Za-z][A-Za-z0-9-]*=[^,=+"\\<>;#\0]+(,[A-Za-z][A-Za-z0-9-]*=[^,=+"\\<>;#\0]+)*$/;

export function isLdapName(value: string): boolean {
  return NAME.test(value);
}

/** A name from a command (an account, an entitlement): anything else is a terminal `invalid_request`. */
export function assertLdapName(value: string, what: string): string {
  if (!NAME.test(value)) {
    throw new ConnectorError('invalid_request', `${what} "${value.slice(0, 80)}" is not a valid LDAP name (expected ${String(NAME)})`);
  }
  return value;
}

/** A base DN from configuration, checked once when the connector is built. */
export function assertBaseDn(value: string, what: string): string {
  const trimmed = value.trim();
  if (!BASE_DN.test(trimmed)) throw new RangeError(`${what} "${value}" is not a plain DN (attr=value,attr=value...)`);
  return trimmed;
}

/** For comparing DNs: attribute names and values case-folded (cn, uid, ou, dc match case-insensitively), no blanks around separators. */
export function normalizeDn(dn: string): string {
  return dn
    .split(',')
    .map((rdn) =>
      rdn
        .split('=')
        .map((part) => part.trim())
        .join('='),
    )
    .join(',')
    .toLowerCase();
}

/** Where groups and accounts live, and which groups are this connector's to touch. */
export interface LdapLayout {
  /** e.g. `ou=groups,dc=grantline,dc=test`; groups are its direct children `cn=<name>,<groupsBaseDn>`. */
  readonly groupsBaseDn: string;
  /** e.g. `ou=people,dc=grantline,dc=test`; an account is `uid=<account>,<peopleBaseDn>`. */
  readonly peopleBaseDn: string;
}

export function groupDn(layout: LdapLayout, group: string): string {
  return `cn=${group},${layout.groupsBaseDn}`;
}

export function accountDn(layout: LdapLayout, account: string): string {
  return `uid=${account},${layout.peopleBaseDn}`;
}

/**
 * The account a `member` value names, when it is `uid=<name>,<peopleBaseDn>` (compared case-insensitively, as the
 * server does); undefined for anything else (the placeholder, members elsewhere in the tree), which this connector
 * neither reports nor touches.
 */
export function accountOfMemberDn(layout: LdapLayout, memberDn: string): string | undefined {
  const comma = memberDn.indexOf(',');
  if (comma < 0) return undefined;
  const rdn = memberDn.slice(0, comma);
  if (normalizeDn(memberDn.slice(comma + 1)) !== normalizeDn(layout.peopleBaseDn)) return undefined;
  const equals = rdn.indexOf('=');
  if (equals < 0 || rdn.slice(0, equals).trim().toLowerCase() !== 'uid') return undefined;
  const value = rdn.slice(equals + 1).trim();
  return NAME.test(value) ? value : undefined;
}
