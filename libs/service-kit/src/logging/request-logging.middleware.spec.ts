import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { JsonLogger } from './json-logger';
import { RequestLoggingMiddleware } from './request-logging.middleware';

function setup(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const middleware = new RequestLoggingMiddleware(new JsonLogger({ serviceName: 'intake', level, destination }));
  const records = (): Record<string, unknown>[] =>
    lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  /** One request through the middleware; `authenticate` stands for the bearer guard running in between. */
  const call = (url: string, headers: Record<string, string> = {}, authenticate?: string) => {
    const request = Object.assign(new EventEmitter(), { method: 'GET', url, headers }) as unknown as IncomingMessage & { principal?: unknown };
    const responseHeaders = new Map<string, string>();
    const response = Object.assign(new EventEmitter(), {
      statusCode: 200,
      writableFinished: true,
      setHeader: (name: string, value: string) => void responseHeaders.set(name.toLowerCase(), value),
    }) as unknown as ServerResponse;
    middleware.use(request, response, () => {
      if (authenticate !== undefined) request.principal = { subject: authenticate };
    });
    response.emit('finish');
    return { responseHeaders };
  };
  return { call, records };
}

describe('RequestLoggingMiddleware', () => {
  it('given a request, then one record carries method, path without the query, status, request id and the principal; the id is echoed', () => {
    const { call, records } = setup();

    const { responseHeaders } = call('/v1/requests/req-1?subject=alice', {}, 'alice');

    const id = responseHeaders.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(records()).toEqual([
      expect.objectContaining({ level: 'info', context: 'http', method: 'GET', path: '/v1/requests/req-1', status: 200, requestId: id, principal: 'alice' }),
    ]);
  });

  it("given the caller's X-Request-Id, then it is kept; given a malformed one, then it is replaced", () => {
    const { call, records } = setup();

    expect(call('/v1/requests', { 'x-request-id': 'gw-7f3a.1' }).responseHeaders.get('x-request-id')).toBe('gw-7f3a.1');
    const replaced = call('/v1/requests', { 'x-request-id': 'bad id\nwith a newline' }).responseHeaders.get('x-request-id');

    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect(records().map((record) => record['requestId'])).toEqual(['gw-7f3a.1', replaced]);
    expect(records().every((record) => record['principal'] === undefined)).toBe(true);
  });

  it('given probes and scrapes, then they log at debug only', () => {
    const { call, records } = setup('info');

    call('/health/ready');
    call('/metrics');

    expect(records()).toEqual([]);
  });
});
