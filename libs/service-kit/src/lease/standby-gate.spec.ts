import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessLeaseElector } from '@grantline/messaging';
import type { Lease } from '@grantline/messaging';
import { STANDBY_REASON, StandbyGate } from './standby-gate';

describe('StandbyGate', () => {
  let server: Server;
  let url: string;
  let gate: StandbyGate;
  let holder: Lease;
  let lease: Lease;

  beforeEach(async () => {
    const elector = new InProcessLeaseElector();
    holder = await elector.campaign({ name: 'svc', instanceId: 'other' });
    lease = await elector.campaign({ name: 'svc', instanceId: 'me' });
    gate = new StandbyGate(lease);
    server = createServer((request, response) =>
      gate.middleware(request, response, () => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(`service answered ${request.url ?? ''}`);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = async (path: string): Promise<{ status: number; type: string; body: unknown }> => {
    const response = await fetch(`${url}${path}`);
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: text.startsWith('{') ? JSON.parse(text) : text };
  };

  it('a standby is live, not ready (saying why), and refuses everything else with problem+json', async () => {
    expect(await get('/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get('/health/ready?verbose=1')).toMatchObject({
      status: 503,
      body: { status: 'error', error: { lease: { status: 'down', detail: STANDBY_REASON, state: 'standby', instanceId: 'me' } } },
    });
    const refused = await get('/requests');
    expect(refused.status).toBe(503);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      type: 'https://grantline.dev/problems/standby',
      status: 503,
      detail: `${STANDBY_REASON}; send the request to the active instance`,
    });
  });

  it('a standby serves its metrics (a scrape target like any other), from the service registry', async () => {
    const metrics = { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'grantline_instance_active{service="svc"} 0\n' };
    const scraped = new StandbyGate(lease, metrics);
    const standalone = createServer((request, response) => scraped.middleware(request, response, () => response.end('service answered')));
    await new Promise<void>((resolve) => standalone.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(standalone.address() as AddressInfo).port}/metrics`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(metrics.contentType);
      expect(await response.text()).toBe('grantline_instance_active{service="svc"} 0\n');
    } finally {
      await new Promise((resolve) => standalone.close(resolve));
    }
  });

  it('a standby without a metrics registry refuses /metrics like any other path', async () => {
    expect((await get('/metrics')).status).toBe(503);
  });

  it('steps aside once the instance is active, and answers again when the lease is lost or the service stops', async () => {
    await holder.release();
    await lease.whenAcquired();
    gate.starting();
    expect((await get('/health/ready')).body).toMatchObject({ error: { lease: { detail: expect.stringMatching(/^starting/) } } });
    gate.open();
    expect(await get('/health/ready')).toEqual({ status: 200, type: 'text/plain', body: 'service answered /health/ready' });
    gate.lost('network partition');
    expect(await get('/health/ready')).toMatchObject({
      status: 503,
      body: { error: { lease: { detail: 'lease lost, consumers stopped: network partition' } } },
    });
    expect((await get('/health/live')).status).toBe(200);
  });
});
