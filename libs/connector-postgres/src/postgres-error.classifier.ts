import type { ProviderErrorClassifier, ProviderErrorMapping } from '@grantline/connector-sdk';
import { createErrorMapper } from '@grantline/connector-sdk';

const retriable = (code: ProviderErrorMapping['code']): Omit<ProviderErrorMapping, 'providerCode'> => ({
  code,
  errorClass: 'retriable',
});
const terminal = (code: ProviderErrorMapping['code']): Omit<ProviderErrorMapping, 'providerCode'> => ({
  code,
  errorClass: 'terminal',
});

/** Exact SQLSTATEs first; see https://www.postgresql.org/docs/current/errcodes-appendix.html */
const BY_SQLSTATE: Readonly<Record<string, Omit<ProviderErrorMapping, 'providerCode'>>> = {
  '57P01': retriable('unavailable'), // admin_shutdown
  '57P02': retriable('unavailable'), // crash_shutdown
  '57P03': retriable('unavailable'), // cannot_connect_now (starting up, recovery)
  '53300': retriable('unavailable'), // too_many_connections
  '57014': retriable('timeout'), // query_canceled (statement_timeout)
  '55P03': retriable('timeout'), // lock_not_available (lock_timeout)
  '40001': retriable('conflict'), // serialization_failure
  '40P01': retriable('conflict'), // deadlock_detected
  '42704': terminal('not_found'), // undefined_object: the role does not exist
  '3D000': terminal('not_found'), // invalid_catalog_name: the database does not exist
  '42501': terminal('permission_denied'), // insufficient_privilege (no ADMIN OPTION / CREATEROLE)
  '28000': terminal('permission_denied'), // invalid_authorization_specification
  '28P01': terminal('permission_denied'), // invalid_password
  '0L000': terminal('permission_denied'), // invalid_grantor
  '42710': terminal('conflict'), // duplicate_object
  '0LP01': terminal('invalid_request'), // invalid_grant_operation (e.g. circular membership)
  '22023': terminal('invalid_request'), // invalid_parameter_value
  '42939': terminal('invalid_request'), // reserved_name
  '42601': terminal('invalid_request'), // syntax_error
};

/** Then whole classes. */
const BY_CLASS: Readonly<Record<string, Omit<ProviderErrorMapping, 'providerCode'>>> = {
  '08': retriable('unavailable'), // connection_exception
  '53': retriable('unavailable'), // insufficient_resources
  '58': retriable('unavailable'), // system_error (I/O)
  '28': terminal('permission_denied'),
  '42': terminal('invalid_request'),
  '22': terminal('invalid_request'),
};

// pg raises these as plain Errors without a code when the socket goes away.
const CLIENT_MESSAGES: readonly [RegExp, Omit<ProviderErrorMapping, 'providerCode'>][] = [
  [/timeout exceeded when trying to connect|connection timeout/i, retriable('timeout')],
  [/Query read timeout/i, retriable('timeout')],
  [/Connection terminated|connection error|Client was closed/i, retriable('unavailable')],
];

function sqlstateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const classifyPostgresError: ProviderErrorClassifier = (error) => {
  const sqlstate = sqlstateOf(error);
  if (sqlstate !== undefined) {
    if (sqlstate === 'XX000' && error instanceof Error && /tuple concurrently (updated|deleted)/.test(error.message)) {
      // Two sessions changing the same catalog row; the loser may simply try again.
      return { ...retriable('conflict'), providerCode: sqlstate };
    }
    const mapped = BY_SQLSTATE[sqlstate] ?? BY_CLASS[sqlstate.slice(0, 2)];
    return mapped ? { ...mapped, providerCode: sqlstate } : { ...terminal('unknown'), providerCode: sqlstate };
  }
  if (error instanceof Error && !('code' in error)) {
    const hit = CLIENT_MESSAGES.find(([pattern]) => pattern.test(error.message));
    if (hit) return { ...hit[1] };
  }
  return undefined;
};

export const toPostgresConnectorError = createErrorMapper(classifyPostgresError);
