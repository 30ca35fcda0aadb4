// One origin: the gateway in front of the whole platform. Its OpenAPI document holds every operation every service
// documents (a path the route table does not send to its service fails here), a routed call with a token reaches the
// service with the caller's request id, a call without one is answered 401 by the gateway and reaches nobody, a
// burst is cut at the limit with 429 + Retry-After, and a path no service serves is 404.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { ALL_SERVICES, SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const RATE_LIMIT = 20;
const OPERATIONAL = ['/health/live', '/health/ready', '/metrics'];
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

type Paths = Record<string, Record<string, Record<string, unknown>>>;

describe('gateway: every public API on one origin', () => {
  const scenario = new ScenarioHarness('gateway', {
    services: [...ALL_SERVICES, 'gateway'],
    env: { gateway: { GATEWAY_RATE_LIMIT: String(RATE_LIMIT), GATEWAY_RATE_WINDOW_MS: '600000' } },
  });
  let platform: Platform;

  const viaGateway = async (path: string, init: { method?: string; token?: string; requestId?: string; body?: unknown } = {}): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
    if (init.requestId !== undefined) headers['x-request-id'] = init.requestId;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${platform.url('gateway')}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(30_000),
    });
  };
  const logOf = (service: 'gateway' | 'intake'): string => readFileSync(join(platform.logDir, `${service}.log`), 'utf8');

  beforeAll(async () => {
    ({ platform } = await scenario.start());
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    "documents every service's operations in one OpenAPI document, each routed to the service that serves it",
    platform_(async () => {
      const merged = (await (await viaGateway('/openapi.json')).json()) as {
        paths: Paths;
        'x-grantline-unrouted'?: string[];
        'x-grantline-shadowed'?: string[];
        'x-grantline-unavailable'?: string[];
      };
      const shadowed = merged['x-grantline-shadowed'] ?? [];
      const unavailable = merged['x-grantline-unavailable'] ?? [];
      const missing: string[] = [];
      let operations = 0;
      for (const service of ALL_SERVICES) {
        const own = await platform.call<{ paths: Paths }>(service, 'GET', '/docs-json');
        expect(own.status).toBe(200);
        for (const [path, item] of Object.entries(own.body.paths)) {
          if (OPERATIONAL.includes(path)) continue;
          for (const method of Object.keys(item).filter((key) => METHODS.includes(key))) {
            operations += 1;
            const operation = `${service} ${method.toUpperCase()} ${path}`;
            const servedBy = merged.paths[path]?.[method]?.['x-grantline-service'];
            // Served at the origin by this service; or, a path several services serve (every connector host's credential
            // retrieval), by the one its row names, which serves it too (or is not part of this platform).
            const answering = shadowed.find((entry) => entry.startsWith(`${operation} -> `))?.split(' -> ')[1];
            const routed = servedBy === service || (answering !== undefined && (servedBy === answering || unavailable.includes(answering)));
            if (!routed) missing.push(operation);
          }
        }
      }
      expect(missing).toEqual([]);
      expect(merged['x-grantline-unrouted']).toBeUndefined();
      // Only the fronted services this platform does not run are missing from it.
      expect(unavailable).toEqual(['connector-credentials']);
      expect(operations).toBeGreaterThan(40);
      // The event log's interface on the same origin, every event type in it.
      const asyncApi = (await (await viaGateway('/asyncapi.json')).json()) as { components: { messages: Record<string, unknown> } };
      expect(registry.definitions().filter((definition) => asyncApi.components.messages[definition.type] === undefined)).toEqual([]);
      process.stdout.write(
        `gateway: ${operations} operations of ${ALL_SERVICES.length} services on one origin; served by another service's row: ${shadowed.join('; ') || 'none'}\n`,
      );
    }),
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "forwards a call with a token to its service, with the caller's request id, and echoes it",
    platform_(async () => {
      const requestId = `e2e-gw-${platform.runId}`;
      const alice = await platform.tokens.mint(`e2e_alice_${platform.runId}`);
      // A body the intake refuses, naming the field: the body went through the gateway untouched, and nothing is written.
      const refused = await viaGateway('/v1/requests', { method: 'POST', token: alice, requestId, body: { subject: { id: 42 } } });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('x-request-id')).toBe(requestId);
      expect(JSON.stringify(await refused.json())).toContain('subject');
      await eventually(() => expect(logOf('intake')).toContain(`"requestId":"${requestId}"`), { timeoutMs: 10_000 });
      // Calls to two more services.
      expect((await viaGateway('/v1/approvals/tasks', { token: alice })).status).toBe(200);
      expect((await viaGateway(`/v1/audit/grants?subjectId=e2e_alice_${platform.runId}`, { token: alice })).status).toBe(200);
    }),
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'answers 401 itself to a call without a valid token: the service never sees it',
    platform_(async () => {
      const requestId = `e2e-gw-anon-${platform.runId}`;
      const answer = await viaGateway('/v1/requests', { method: 'POST', requestId, body: {} });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(answer.headers.get('x-request-id')).toBe(requestId);
      // The gateway logs a request once its answer is sent; by then a forwarded one would be in the intake's log.
      await eventually(() => expect(logOf('gateway')).toContain(`"requestId":"${requestId}"`), { timeoutMs: 10_000 });
      expect(logOf('intake')).not.toContain(requestId);
    }),
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'cuts a burst of one principal at the limit with 429 and Retry-After; a path no service serves is 404',
    platform_(async () => {
      const burst = await platform.tokens.mint(`e2e_burst_${platform.runId}`);
      const statuses: number[] = [];
      for (let i = 0; i <= RATE_LIMIT; i += 1) statuses.push((await viaGateway('/v1/approvals/tasks', { token: burst })).status);
      expect(statuses.slice(0, RATE_LIMIT)).toEqual(Array(RATE_LIMIT).fill(200));
      expect(statuses[RATE_LIMIT]).toBe(429);
      const limited = await viaGateway('/v1/approvals/tasks', { token: burst });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('content-type')).toContain('application/problem+json');
      const unknown = await viaGateway('/v1/nothing-here', { token: burst });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    }),
    SCENARIO_TIMEOUT_MS,
  );

  /** The test body with the service logs attached to a failure. */
  function platform_(body: () => Promise<void>): () => Promise<void> {
    return () => platform.withLogs(body)();
  }
});
