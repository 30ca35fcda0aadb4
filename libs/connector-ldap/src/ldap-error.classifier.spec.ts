import { ConnectorError } from '@grantline/connector-sdk';
import { InvalidCredentialsError, NoSuchObjectError, UnavailableError } from 'ldapts';
import { toLdapConnectorError } from './ldap-error.classifier';

// Shaped like ldapts's ResultCodeError: an Error with the numeric LDAP result code in `code`.
const ldapError = (code: number, message = `result ${code}`): Error => Object.assign(new Error(message), { code });

describe('toLdapConnectorError', () => {
  it.each([
    [51, 'unavailable', 'retriable', 'busy'],
    [52, 'unavailable', 'retriable', 'unavailable'],
    [53, 'unavailable', 'retriable', 'unwillingToPerform'],
    [3, 'timeout', 'retriable', 'timeLimitExceeded'],
    [118, 'unavailable', 'retriable', 'canceled'],
    [49, 'permission_denied', 'terminal', 'invalidCredentials'],
    [50, 'permission_denied', 'terminal', 'insufficientAccessRights'],
    [8, 'permission_denied', 'terminal', 'strongerAuthRequired'],
    [32, 'not_found', 'terminal', 'noSuchObject'],
    [16, 'not_found', 'terminal', 'noSuchAttribute'],
    [19, 'invalid_request', 'terminal', 'constraintViolation'],
    [20, 'conflict', 'terminal', 'attributeOrValueExists'],
    [68, 'conflict', 'terminal', 'entryAlreadyExists'],
    [34, 'invalid_request', 'terminal', 'invalidDNSyntax'],
    [65, 'invalid_request', 'terminal', 'objectClassViolation'],
    [12, 'invalid_request', 'terminal', 'unavailableCriticalExtension'],
    [80, 'unknown', 'terminal', 'other'],
  ] as const)('maps LDAP result %i to %s (%s)', (resultCode, code, errorClass, name) => {
    const mapped = toLdapConnectorError(ldapError(resultCode));
    expect(mapped).toBeInstanceOf(ConnectorError);
    expect(mapped).toMatchObject({ code, errorClass, providerCode: `ldap:${resultCode} ${name}`, message: `result ${resultCode}` });
  });

  it('maps an unlisted result code to a terminal unknown that names the code', () => {
    expect(toLdapConnectorError(ldapError(4097))).toMatchObject({ code: 'unknown', errorClass: 'terminal', providerCode: 'ldap:4097' });
  });

  it("classifies ldapts's own error classes by their code", () => {
    expect(toLdapConnectorError(new InvalidCredentialsError('bad bind'))).toMatchObject({ code: 'permission_denied', errorClass: 'terminal' });
    expect(toLdapConnectorError(new NoSuchObjectError('gone'))).toMatchObject({ code: 'not_found', errorClass: 'terminal' });
    expect(toLdapConnectorError(new UnavailableError('down'))).toMatchObject({ code: 'unavailable', errorClass: 'retriable' });
  });

  it.each([
    ['connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED', 'unavailable'],
    ['read ECONNRESET', 'ECONNRESET', 'unavailable'],
    ['connect ETIMEDOUT', 'ETIMEDOUT', 'timeout'],
  ] as const)('maps the socket error "%s" to retriable %s', (message, errno, code) => {
    expect(toLdapConnectorError(Object.assign(new Error(message), { code: errno }))).toMatchObject({ code, errorClass: 'retriable', providerCode: errno });
  });

  it.each([
    ['Connection timeout', 'timeout'],
    ['ModifyRequest: Operation timed out', 'timeout'],
    ['Connection closed before message response was received. Message type: SearchRequest (0x63)', 'unavailable'],
    ['Socket error. Message type: ModifyRequest (0x66)\nread ECONNRESET', 'unavailable'],
  ] as const)('maps the ldapts message "%s" to retriable %s', (message, code) => {
    expect(toLdapConnectorError(new Error(message))).toMatchObject({ code, errorClass: 'retriable' });
  });

  it('leaves an unrecognised plain error terminal', () => {
    expect(toLdapConnectorError(new Error('something else'))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
  });
});
