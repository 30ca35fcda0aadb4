import { escapeIdentifier } from 'pg';
import { ConnectorError } from '@grantline/connector-sdk';

// Deliberately narrower than what PostgreSQL accepts: lower-case unquoted-style names only, so
// a name means the same thing quoted or not and no case-folding surprise grants the wrong role.
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Names PostgreSQL reserves or that stand for "everyone"/"the caller". */
const RESERVED = new Set(['public', 'none', 'current_role', 'current_user', 'session_user']);

export function assertRoleName(name: string, what: string): string {
  if (!ROLE_NAME.test(name)) {
    throw new ConnectorError('invalid_request', `${what} ${JSON.stringify(name)} is not a valid role name (^[a-z_][a-z0-9_]{0,62}$)`);
  }
  if (RESERVED.has(name) || name.startsWith('pg_')) {
    throw new ConnectorError('invalid_request', `${what} ${JSON.stringify(name)} is a reserved role name`);
  }
  return name;
}

/** Validates, then quotes: both layers, so a bug in one is not an injection. */
export function quoteRole(name: string, what: string): string {
  return escapeIdentifier(assertRoleName(name, what));
}
