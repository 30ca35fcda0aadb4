// The gateway in process in front of stub services (plain node HTTP servers on loopback): what the edge answers by
// itself (404, 401, 429, 502-504) and what it forwards (path, query, body, request id, trace context). The real
// services behind it: apps/e2e/src/gateway.e2e.spec.ts.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey } from '@grantline/http-edge';
import { loadGatewayConfig, upstreamVariable } from './config/gateway-config';
import { startGateway } from './gateway';
import type { RunningGateway } from './gateway';
import { UPSTREAM_SERVICES } from './routing/route-table';
import type { UpstreamService } from './routing/route-table';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A stub service: answers what it saw as JSON, `/v1/audit/slow` never, `/docs-json` a small document. */
async function stubService(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      if (request.url === '/docs-json') {
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            openapi: '3.0.0',
            info: { title: 'stub', version: '1' },
            paths: {
              '/v1/audit/grants': { get: { responses: { '200': { description: 'ok' } } } },
              '/health/live': { get: { responses: { '200': { description: 'ok' } } } },
            },
          }),
        );
        return;
      }
      seen.push(entry);
      if (request.url?.startsWith('/v1/audit/slow')) return; // never answers
      response.setHeader('content-type', 'application/json');
      response.setHeader('x-request-id', String(request.headers['x-request-id']));
      response.statusCode = 200;
      response.end(JSON.stringify({ url: request.url, method: request.method, body }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A port nothing listens on: a service that is down. */
async function closedPort(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('gateway: one origin in front of the services', () => {
  let dir: string;
  let key: DevIssuerKey;
  let stub: Awaited<ReturnType<typeof stubService>>;
  let gateway: RunningGateway;
  const RATE_LIMIT = 8;

  const token = (subject: string, options: { expired?: boolean } = {}): Promise<string> =>
    mintDevToken(key, {
      subject,
      audience: DEFAULT_AUDIENCE,
      issuer: DEV_ISSUER,
      ttlSeconds: 60,
      ...(options.expired === true ? { now: new Date(Date.now() - 3_600_000) } : {}),
    });
  const call = (path: string, init: RequestInit & { token?: string } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
    return fetch(`${gateway.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  };

  /** Sent as written: fetch would normalise dot segments before they reach the gateway. */
  const rawStatus = (path: string, bearer: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(gateway.url);
      const request = httpRequest({ hostname, port, path, headers: { authorization: `Bearer ${bearer}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-spec-'));
    key = await ensureDevIssuerKey(dir);
    stub = await stubService();
    const down = await closedPort();
    const upstreams = Object.fromEntries(
      (Object.keys(UPSTREAM_SERVICES) as UpstreamService[]).map((service) => [upstreamVariable(service), service === 'policy' ? down : stub.url]),
    );
    const config = loadGatewayConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DEV_ISSUER_DIR: dir,
      GATEWAY_RATE_LIMIT: String(RATE_LIMIT),
      GATEWAY_RATE_WINDOW_MS: '60000',
      GATEWAY_UPSTREAM_TIMEOUT_MS: '500',
      ...upstreams,
    });
    gateway = await startGateway({ config, logDestination: { write: () => undefined } });
  });

  afterAll(async () => {
    await gateway?.stop();
    stub?.server.closeAllConnections();
    await new Promise<void>((resolve) => (stub ? stub.server.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards a call with a valid token: method, path, query and body unchanged; the request id kept and echoed', async () => {
    const answer = await call('/v1/requests/r-1/withdraw?x=1', {
      method: 'POST',
      token: await token('alice'),
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-req-42' },
      body: JSON.stringify({ reason: 'no longer needed' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('client-req-42');
    expect(await answer.json()).toEqual({ url: '/v1/requests/r-1/withdraw?x=1', method: 'POST', body: '{"reason":"no longer needed"}' });
    const seen = stub.seen.at(-1)!;
    expect(seen.headers['x-request-id']).toBe('client-req-42');
    // The service gets the token too: it verifies it again and decides what the caller may do.
    expect(seen.headers['authorization']).toMatch(/^Bearer /);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('mints a request id when the caller sent none (or an unusable one), forwards it and echoes it', async () => {
    for (const given of [undefined, 'not a plain id!']) {
      const answer = await call('/v1/audit/grants', { token: await token('alice'), headers: given === undefined ? {} : { 'x-request-id': given } });
      expect(answer.status).toBe(200);
      const id = answer.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(stub.seen.at(-1)!.headers['x-request-id']).toBe(id);
    }
  });

  it("continues the caller's trace: the service receives a traceparent of the same trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await call('/v1/audit/grants', { token: await token('alice'), headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const forwarded = stub.seen.at(-1)!.headers['traceparent'];
    expect(forwarded).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
    // ...with the gateway's own span as the parent: the gateway is a hop of the trace, not a pipe.
    expect(forwarded).not.toContain('00f067aa0ba902b7');
  });

  it('answers 401 at the edge for a missing, expired or forged token, and forwards nothing', async () => {
    const before = stub.seen.length;
    const forged = `${(await token('alice')).slice(0, -4)}AAAA`;
    for (const bearer of [undefined, await token('alice', { expired: true }), forged]) {
      const answer = await call('/v1/audit/grants', bearer === undefined ? {} : { token: bearer });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(answer.headers.get('x-request-id')).toBeTruthy();
      expect(((await answer.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('Authorization');
    }
    expect(stub.seen.length).toBe(before);
  });

  it('lets reads of public paths through without a token (key material, revocation lists, discovery); nothing else', async () => {
    expect((await call('/.well-known/jwks.json')).status).toBe(200);
    expect((await call('/v1/credentials/crl')).status).toBe(200);
    expect((await call('/dev-issuer/jwks.json')).status).toBe(200);
    expect(stub.seen.at(-1)!.url).toBe('/dev-issuer/jwks.json');
    const before = stub.seen.length;
    expect((await call('/v1/credentials/crl', { method: 'POST' })).status).toBe(401);
    expect((await call('/v1/connectors/credentials/credentials/g-1/retrieval', { method: 'POST' })).status).toBe(401);
    expect(stub.seen.length).toBe(before);
  });

  it('answers 404 problem+json for a path no service serves, without forwarding it', async () => {
    const before = stub.seen.length;
    for (const path of ['/v2/requests', '/v1/requestsx', '/']) {
      const answer = await call(path, { token: await token('alice') });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    // A path that means another service's once normalised is not routed by its first segments.
    for (const path of ['/v1/requests/../audit/grants', '/v1/requests/%2E%2e/audit/grants', '/v1/requests//x'])
      expect({ path, status: await rawStatus(path, await token('alice')) }).toEqual({ path, status: 404 });
    expect(stub.seen.length).toBe(before);
  });

  it('answers 503 with Retry-After when the service is down, and 504 when it does not answer in time: never a hang', async () => {
    const down = await call('/v1/policy/simulate', { method: 'POST', token: await token('bob'), headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    expect(((await down.json()) as { type: string }).type).toBe('https://grantline.dev/problems/upstream-unavailable');
    const slow = await call('/v1/audit/slow', { token: await token('bob') });
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { type: string }).type).toBe('https://grantline.dev/problems/upstream-timeout');
  });

  it('limits requests per principal: 429 problem+json with Retry-After, another principal unaffected', async () => {
    const carol = await token('carol');
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i += 1) statuses.push((await call('/v1/audit/grants', { token: carol })).status);
    expect(statuses.slice(0, RATE_LIMIT)).toEqual(Array(RATE_LIMIT).fill(200));
    const limited = await call('/v1/audit/grants', { token: carol });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(((await limited.json()) as { type: string }).type).toBe('https://grantline.dev/problems/too-many-requests');
    expect((await call('/v1/audit/grants', { token: await token('dave') })).status).toBe(200);
  });

  it('serves its own probes and metrics, the merged OpenAPI document and the AsyncAPI document without a token', async () => {
    expect((await call('/health/live')).status).toBe(200);
    expect((await call('/health/ready')).status).toBe(200);
    const metrics = await (await call('/metrics')).text();
    expect(metrics).toMatch(/grantline_gateway_requests_total\{upstream="audit",status="200",service="gateway"\} \d+/);
    expect(metrics).toMatch(/grantline_gateway_requests_total\{upstream="policy",status="503",service="gateway"\} 1/);
    const openApi = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      'x-grantline-unavailable'?: string[];
    };
    expect(openApi.paths['/v1/audit/grants']?.['get']?.['x-grantline-service']).toBe('audit');
    expect(openApi.paths['/health/live']?.['get']?.['x-grantline-service']).toBe('gateway');
    expect(openApi.paths['/openapi.json']?.['get']?.['x-grantline-service']).toBe('gateway');
    expect(openApi['x-grantline-unavailable']).toEqual(['policy']);
    const docsJson = (await (await call('/docs-json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docsJson.paths).sort()).toEqual(Object.keys(openApi.paths).sort());
    const asyncApi = (await (await call('/asyncapi.json')).json()) as { asyncapi: string; channels: Record<string, unknown> };
    expect(asyncApi.asyncapi).toBe('3.0.0');
    expect(Object.keys(asyncApi.channels)).toContain('requests');
  });
});
