import { createErrorMapper } from '@grantline/connector-sdk';
import type { ProviderErrorClassifier, ProviderErrorMapping } from '@grantline/connector-sdk';

type Mapping = Omit<ProviderErrorMapping, 'providerCode'>;

const retriable = (code: Mapping['code']): Mapping => ({ code, errorClass: 'retriable' });
const terminal = (code: Mapping['code']): Mapping => ({ code, errorClass: 'terminal' });

/**
 * LDAP result codes (RFC 4511 §4.1.9, plus RFC 3909 cancel and RFC 4528 assertion) → the SDK's taxonomy. Retriable:
 * the server is busy, unavailable, shutting down (OpenLDAP answers unwillingToPerform while it stops) or ran out of
 * time. Everything about credentials, names, schema or the request itself is terminal: retrying cannot change it.
 */
export const LDAP_RESULT_CODES: Readonly<Record<number, readonly [name: string, mapping: Mapping]>> = {
  1: ['operationsError', terminal('unknown')],
  2: ['protocolError', terminal('invalid_request')],
  3: ['timeLimitExceeded', retriable('timeout')],
  4: ['sizeLimitExceeded', terminal('invalid_request')],
  7: ['authMethodNotSupported', terminal('permission_denied')],
  8: ['strongerAuthRequired', terminal('permission_denied')],
  10: ['referral', terminal('invalid_request')],
  11: ['adminLimitExceeded', terminal('invalid_request')],
  12: ['unavailableCriticalExtension', terminal('invalid_request')],
  13: ['confidentialityRequired', terminal('permission_denied')],
  16: ['noSuchAttribute', terminal('not_found')],
  17: ['undefinedAttributeType', terminal('invalid_request')],
  18: ['inappropriateMatching', terminal('invalid_request')],
  19: ['constraintViolation', terminal('invalid_request')],
  20: ['attributeOrValueExists', terminal('conflict')],
  21: ['invalidAttributeSyntax', terminal('invalid_request')],
  32: ['noSuchObject', terminal('not_found')],
  33: ['aliasProblem', terminal('invalid_request')],
  34: ['invalidDNSyntax', terminal('invalid_request')],
  36: ['aliasDereferencingProblem', terminal('invalid_request')],
  48: ['inappropriateAuthentication', terminal('permission_denied')],
  49: ['invalidCredentials', terminal('permission_denied')],
  50: ['insufficientAccessRights', terminal('permission_denied')],
  51: ['busy', retriable('unavailable')],
  52: ['unavailable', retriable('unavailable')],
  53: ['unwillingToPerform', retriable('unavailable')],
  54: ['loopDetect', terminal('invalid_request')],
  64: ['namingViolation', terminal('invalid_request')],
  65: ['objectClassViolation', terminal('invalid_request')],
  66: ['notAllowedOnNonLeaf', terminal('invalid_request')],
  67: ['notAllowedOnRDN', terminal('invalid_request')],
  68: ['entryAlreadyExists', terminal('conflict')],
  69: ['objectClassModsProhibited', terminal('invalid_request')],
  71: ['affectsMultipleDSAs', terminal('invalid_request')],
  80: ['other', terminal('unknown')],
  118: ['canceled', retriable('unavailable')],
  122: ['assertionFailed', terminal('conflict')],
};

// ldapts raises plain Errors (no result code) when the socket or its own timers give up.
const CLIENT_MESSAGES: readonly [RegExp, Mapping][] = [
  [/Connection timeout|Operation timed out/i, retriable('timeout')],
  [/Connection closed before message response|Socket error|Socket connection not established/i, retriable('unavailable')],
];

function resultCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
}

/** The classifier the SDK's mapper runs before its generic socket rules (ECONNREFUSED, ETIMEDOUT, ...). */
export const classifyLdapError: ProviderErrorClassifier = (error) => {
  const resultCode = resultCodeOf(error);
  if (resultCode !== undefined) {
    const known = LDAP_RESULT_CODES[resultCode];
    const providerCode = `ldap:${resultCode}${known ? ` ${known[0]}` : ''}`;
    return known ? { ...known[1], providerCode } : { ...terminal('unknown'), providerCode };
  }
  if (error instanceof Error && !('code' in error)) {
    const hit = CLIENT_MESSAGES.find(([pattern]) => pattern.test(error.message));
    if (hit) return { ...hit[1] };
  }
  return undefined;
};

export const toLdapConnectorError = createErrorMapper(classifyLdapError);

/** The numeric result code of an LDAP error, if it carries one (for the connector's own check-then-change decisions). */
export function ldapResultCode(error: unknown): number | undefined {
  return resultCodeOf(error);
}
