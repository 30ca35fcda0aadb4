import { ConnectorError, DEFAULT_ERROR_CLASS, createErrorMapper, toConnectorError } from './connector-error';

describe('ConnectorError', () => {
  it('takes its class from the code unless overridden', () => {
    expect(new ConnectorError('unavailable', 'down').errorClass).toBe('retriable');
    expect(new ConnectorError('not_found', 'gone').errorClass).toBe('terminal');
    expect(new ConnectorError('conflict', 'deadlock', { errorClass: 'retriable' }).retriable).toBe(true);
  });

  it('treats only transport-level trouble as retriable by default', () => {
    const retriable = Object.entries(DEFAULT_ERROR_CLASS)
      .filter(([, errorClass]) => errorClass === 'retriable')
      .map(([code]) => code);
    expect(retriable.sort()).toEqual(['rate_limited', 'timeout', 'unavailable']);
  });
});

describe('toConnectorError', () => {
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it('passes a ConnectorError through untouched', () => {
    const original = new ConnectorError('rate_limited', 'slow down', { retryAfterMs: 500 });
    expect(toConnectorError(original, () => ({ code: 'unknown' }))).toBe(original);
  });

  it.each([
    ['ECONNREFUSED', 'unavailable'],
    ['ECONNRESET', 'unavailable'],
    ['EAI_AGAIN', 'unavailable'],
    ['ETIMEDOUT', 'timeout'],
  ] as const)('maps socket error %s to retriable %s', (socketCode, code) => {
    const mapped = toConnectorError(withCode(socketCode));
    expect(mapped).toMatchObject({ code, errorClass: 'retriable', providerCode: socketCode });
    expect(mapped.cause).toBeInstanceOf(Error);
  });

  it('looks inside an AggregateError from a multi-address connect', () => {
    const aggregate = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed');
    expect(toConnectorError(aggregate)).toMatchObject({ code: 'unavailable', errorClass: 'retriable' });
  });

  it('lets the provider classifier win over the generic rules', () => {
    const map = createErrorMapper((error) =>
      error instanceof Error && 'code' in error && error.code === 'ECONNREFUSED' ? { code: 'permission_denied', message: 'firewall says no' } : undefined,
    );
    expect(map(withCode('ECONNREFUSED'))).toMatchObject({
      code: 'permission_denied',
      errorClass: 'terminal',
      message: 'firewall says no',
    });
    expect(map(withCode('ETIMEDOUT'))).toMatchObject({ code: 'timeout' });
  });

  it('maps what nobody recognises to a terminal unknown, keeping the message', () => {
    expect(toConnectorError(new Error('boom'))).toMatchObject({ code: 'unknown', errorClass: 'terminal', message: 'boom' });
    expect(toConnectorError('a string')).toMatchObject({ code: 'unknown', message: 'a string' });
    expect(toConnectorError(42)).toMatchObject({ code: 'unknown', message: 'non-error value thrown' });
  });
});
