import { join } from 'node:path';
import { ROUTES, RouteTable, UPSTREAM_SERVICES } from './route-table';
import type { UpstreamService } from './route-table';

describe('route table', () => {
  const table = new RouteTable();

  it.each([
    ['/v1/requests', 'intake'],
    ['/v1/requests/r-1/withdraw?x=1', 'intake'],
    ['/v1/grants/g-1/revoke', 'intake'],
    ['/scim/v2/Users', 'intake'],
    ['/v1/approvals/tasks', 'approval'],
    ['/v1/certifications', 'approval'],
    ['/v1/policy/simulate', 'policy'],
    ['/v1/sod/scans', 'policy'],
    ['/v1/timers/status', 'scheduler'],
    ['/v1/audit/grants', 'audit'],
    ['/v1/audit/log/checkpoints', 'audit'],
    ['/v1/connectors/credentials/credentials/g-1/retrieval', 'connector-credentials'],
    ['/v1/connectors/postgres/credentials/g-1/retrieval', 'connector-postgres'],
    ['/v1/credentials/revocations', 'connector-credentials'],
    ['/.well-known/jwks.json', 'connector-credentials'],
  ])('routes %s to %s', (path, service) => {
    expect(table.match(path)?.service).toBe(service);
  });

  it('matches whole segments only, and routes nothing else', () => {
    for (const path of ['/', '/v1', '/v1/requestsx', '/v1/auditlog', '/v2/requests', '/health/live', '/metrics', '/docs', '/scim/v2x'])
      expect(table.match(path)).toBeUndefined();
  });

  it('never routes a path with dot segments or empty segments (it would mean another path once normalised)', () => {
    for (const path of ['/v1/requests/../audit/grants', '/v1/requests/%2e%2E/audit', '/v1/requests/./x', '/v1/requests//x'])
      expect(table.match(path)).toBeUndefined();
  });

  it('marks key material and discovery public, and nothing else', () => {
    expect(ROUTES.filter((route) => route.public).map((route) => route.prefix)).toEqual([
      '/dev-issuer',
      '/v1/credentials/revocations',
      '/v1/credentials/ca.pem',
      '/v1/credentials/crl',
      '/.well-known/jwks.json',
    ]);
    expect(table.match('/v1/credentials/crl')?.public).toBe(true);
    expect(table.match('/v1/connectors/credentials/credentials/g-1/retrieval')?.public).toBeUndefined();
  });

  it('refuses a bad table: a malformed prefix, a prefix routed twice, a prefix hiding the gateway’s own paths', () => {
    expect(() => new RouteTable([{ prefix: '/v1/x/', service: 'intake' }])).toThrow('expected /segment');
    expect(() => new RouteTable([{ prefix: 'v1', service: 'intake' }])).toThrow('expected /segment');
    expect(
      () =>
        new RouteTable([
          { prefix: '/v1/x', service: 'intake' },
          { prefix: '/v1/x', service: 'audit' },
        ]),
    ).toThrow('routed twice');
    expect(() => new RouteTable([{ prefix: '/health', service: 'intake' }])).toThrow('would hide');
  });

  it('prefers the longest prefix', () => {
    const nested = new RouteTable([
      { prefix: '/v1/audit', service: 'audit' },
      { prefix: '/v1/audit/special', service: 'intake' },
    ]);
    expect(nested.match('/v1/audit/special/x')?.service).toBe('intake');
    expect(nested.match('/v1/audit/other')?.service).toBe('audit');
  });

  it('defaults each upstream to the port `npm start` gives that service (tools/platform/services.ts)', async () => {
    // Loaded by path: a spec may check the tool's table, an app may not import a tool.
    const { PLATFORM_SERVICES } = (await import(join(__dirname, '../../../../tools/platform/services'))) as {
      PLATFORM_SERVICES: readonly { name: string; port: number }[];
    };
    for (const service of Object.keys(UPSTREAM_SERVICES) as UpstreamService[]) {
      const started = PLATFORM_SERVICES.find((candidate) => candidate.name === service);
      // A service npm start does not run yet (connector-credentials) keeps its assigned port.
      if (started !== undefined) expect({ service, port: UPSTREAM_SERVICES[service].defaultPort }).toEqual({ service, port: started.port });
    }
    expect(PLATFORM_SERVICES.find((candidate) => candidate.name === 'gateway')?.port).toBe(3100);
  });
});
