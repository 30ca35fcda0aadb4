import { ConnectorError } from '@grantline/connector-sdk';
import { ScimHttpError, ScimProtocolError, retryAfterMs, toScimConnectorError } from './scim-error.classifier';

describe('SCIM error mapping', () => {
  it.each([
    [400, 'invalid_request', 'terminal'],
    [401, 'permission_denied', 'terminal'],
    [403, 'permission_denied', 'terminal'],
    [404, 'not_found', 'terminal'],
    [408, 'timeout', 'retriable'],
    [409, 'conflict', 'terminal'],
    [412, 'conflict', 'retriable'],
    [422, 'invalid_request', 'terminal'],
    [429, 'rate_limited', 'retriable'],
    [500, 'unavailable', 'retriable'],
    [501, 'invalid_request', 'terminal'],
    [502, 'unavailable', 'retriable'],
    [503, 'unavailable', 'retriable'],
    [504, 'timeout', 'retriable'],
    [507, 'unavailable', 'retriable'],
  ] as const)('HTTP %i → %s (%s)', (status, code, errorClass) => {
    const error = toScimConnectorError(new ScimHttpError(status, `answered ${status}`));
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code, errorClass, providerCode: `http_${status}` });
  });

  it('keeps the scimType in the provider code', () => {
    expect(toScimConnectorError(new ScimHttpError(400, 'bad filter', 'invalidFilter'))).toMatchObject({ providerCode: 'http_400:invalidFilter' });
  });

  it('carries a 429 or 503 Retry-After as the retry hint', () => {
    expect(toScimConnectorError(new ScimHttpError(429, 'slow down', undefined, '3'))).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
    expect(toScimConnectorError(new ScimHttpError(503, 'maintenance', undefined, '120'))).toMatchObject({ code: 'unavailable', retryAfterMs: 120_000 });
    expect(toScimConnectorError(new ScimHttpError(429, 'slow down'))).toMatchObject({ code: 'rate_limited', retryAfterMs: undefined });
  });

  it('reads Retry-After as seconds or an HTTP-date, and ignores anything else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 5 ', now)).toBe(5000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it("maps fetch's timeout and abort to a retriable timeout", () => {
    expect(toScimConnectorError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toMatchObject({
      code: 'timeout',
      errorClass: 'retriable',
    });
    expect(toScimConnectorError(new DOMException('aborted', 'AbortError'))).toMatchObject({ code: 'timeout', errorClass: 'retriable' });
  });

  it("maps fetch's socket failures through their cause", () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    expect(toScimConnectorError(refused)).toMatchObject({ code: 'unavailable', errorClass: 'retriable', providerCode: 'ECONNREFUSED' });
    const connectTimeout = new TypeError('fetch failed', { cause: Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) });
    expect(toScimConnectorError(connectTimeout)).toMatchObject({ code: 'timeout', errorClass: 'retriable' });
    const other = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect(toScimConnectorError(other)).toMatchObject({ code: 'unavailable', errorClass: 'retriable', providerCode: 'fetch_failed' });
  });

  it('treats a malformed answer as terminal unknown, and an unrecognised error too', () => {
    expect(toScimConnectorError(new ScimProtocolError('not a ListResponse'))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
    expect(toScimConnectorError(new Error('???'))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
  });
});
