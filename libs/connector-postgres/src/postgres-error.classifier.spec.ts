import { ConnectorError } from '@grantline/connector-sdk';
import { toPostgresConnectorError } from './postgres-error.classifier';

// Shaped like pg's DatabaseError: an Error with a five-character SQLSTATE in `code`.
const pgError = (code: string, message = `sqlstate ${code}`): Error => Object.assign(new Error(message), { code });

describe('toPostgresConnectorError', () => {
  it.each([
    ['42704', 'not_found', 'terminal'],
    ['3D000', 'not_found', 'terminal'],
    ['42501', 'permission_denied', 'terminal'],
    ['28P01', 'permission_denied', 'terminal'],
    ['0LP01', 'invalid_request', 'terminal'],
    ['42710', 'conflict', 'terminal'],
    ['57P03', 'unavailable', 'retriable'],
    ['57P01', 'unavailable', 'retriable'],
    ['53300', 'unavailable', 'retriable'],
    ['08006', 'unavailable', 'retriable'],
    ['57014', 'timeout', 'retriable'],
    ['55P03', 'timeout', 'retriable'],
    ['40P01', 'conflict', 'retriable'],
    ['42P01', 'invalid_request', 'terminal'],
    ['P0001', 'unknown', 'terminal'],
  ] as const)('maps SQLSTATE %s to %s (%s)', (sqlstate, code, errorClass) => {
    const mapped = toPostgresConnectorError(pgError(sqlstate));
    expect(mapped).toBeInstanceOf(ConnectorError);
    expect(mapped).toMatchObject({ code, errorClass, providerCode: sqlstate, message: `sqlstate ${sqlstate}` });
  });

  it('treats a concurrent catalog update as a retriable conflict, other internal errors as terminal', () => {
    expect(toPostgresConnectorError(pgError('XX000', 'tuple concurrently updated'))).toMatchObject({
      code: 'conflict',
      errorClass: 'retriable',
    });
    expect(toPostgresConnectorError(pgError('XX000', 'cache lookup failed'))).toMatchObject({
      code: 'unknown',
      errorClass: 'terminal',
    });
  });

  it('maps a refused connection to retriable unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toPostgresConnectorError(refused)).toMatchObject({ code: 'unavailable', errorClass: 'retriable', providerCode: 'ECONNREFUSED' });
  });

  it.each([
    ['Connection terminated unexpectedly', 'unavailable'],
    ['timeout exceeded when trying to connect', 'timeout'],
    ['Connection terminated due to connection timeout', 'timeout'],
  ] as const)('maps the pg client message "%s" to retriable %s', (message, code) => {
    expect(toPostgresConnectorError(new Error(message))).toMatchObject({ code, errorClass: 'retriable' });
  });

  it('leaves an unrecognised plain error terminal', () => {
    expect(toPostgresConnectorError(new Error('something else'))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
  });
});
