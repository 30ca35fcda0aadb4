/**
 * `npm run bench:scim`: grant and revoke latency of the SCIM 2.0 connector against the harness's SCIM target
 * (tools/scim-target: SCIMMY on express, its own process, on loopback), beside a baseline measured in the same run:
 * one bare authenticated `GET /Users?filter=userName eq ...`, the floor of any SCIM change. A grant is find user →
 * find group → PATCH add (If-Match); a revoke is find user → find group → PATCH remove; each on a fresh user, so every
 * call changes the application.
 *
 * BENCH_SCIM_OPS (50): grants and revokes measured (after 5 warm-up rounds).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real target
import { ScimGroupConnector } from '@grantline/connector-scim';
import { globalSetup, globalTeardown } from '@grantline/testing';

const say = (line: string): void => void process.stderr.write(`scim | ${line}\n`);

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function runScimBench(): Promise<void> {
  const ops = Number(process.env['BENCH_SCIM_OPS'] ?? 50);
  if (!Number.isInteger(ops) || ops < 1) throw new Error(`BENCH_SCIM_OPS=${process.env['BENCH_SCIM_OPS']} is not a positive whole number`);
  const url = process.env['SCIM_URL'];
  const token = process.env['SCIM_BEARER_TOKEN'];
  if (!url || !token) throw new Error('the benchmark needs the SCIM target (SCIM_URL, SCIM_BEARER_TOKEN) after infrastructure setup');
  const scim = async (method: string, path: string, body?: unknown): Promise<{ id?: string }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
    return (text === '' ? {} : JSON.parse(text)) as { id?: string };
  };
  const run = randomBytes(3).toString('hex');
  const prefix = `glbench-${run}-`;
  const group = `${prefix}sales`;
  const connector = new ScimGroupConnector({ id: 'scim', baseUrl: url, bearerToken: token, managedGroups: { prefix } });
  const created: string[] = [];
  try {
    const groupId = (await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: group })).id;
    if (groupId !== undefined) created.push(`/Groups/${groupId}`);
    const baseline: number[] = [];
    const grant: number[] = [];
    const revoke: number[] = [];
    const noop: number[] = [];
    for (let round = -5; round < ops; round += 1) {
      const account = `${prefix}user-${round + 5}`;
      const userId = (await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: account })).id;
      if (userId !== undefined) created.push(`/Users/${userId}`);
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${account}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${account}`, operation),
        account,
        entitlementRef: group,
      });
      const b = await timed(() => scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${account}"`)}`));
      const g = await timed(async () => {
        if (!(await connector.provision(op('provision'))).changed) throw new Error('a grant to a fresh user changed nothing');
      });
      const n = await timed(async () => {
        if ((await connector.provision(op('provision'))).changed) throw new Error('a repeated grant changed the group');
      });
      const r = await timed(async () => {
        if (!(await connector.deprovision(op('deprovision'))).changed) throw new Error('a revoke of a live membership changed nothing');
      });
      if (round < 0) continue;
      baseline.push(b);
      grant.push(g);
      noop.push(n);
      revoke.push(r);
    }
    const row = (label: string, samples: readonly number[]): string =>
      `${label.padEnd(38)} p50 ${percentile(samples, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(samples, 95).toFixed(1).padStart(7)} ms   ×${(
        percentile(samples, 50) / percentile(baseline, 50)
      ).toFixed(1)} baseline`;
    say(`${ops} grants and revokes on ${url} (load ${loadavg()[0]?.toFixed(2)})`);
    say(row('baseline: one GET /Users?filter', baseline));
    say(row('grant (user, group, PATCH add)', grant));
    say(row('grant again (user, group; no-op)', noop));
    say(row('revoke (user, group, PATCH remove)', revoke));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'scim',
        ops,
        baselineLookupP50Ms: Number(percentile(baseline, 50).toFixed(2)),
        grantP50Ms: Number(percentile(grant, 50).toFixed(2)),
        grantP95Ms: Number(percentile(grant, 95).toFixed(2)),
        noopGrantP50Ms: Number(percentile(noop, 50).toFixed(2)),
        revokeP50Ms: Number(percentile(revoke, 50).toFixed(2)),
        revokeP95Ms: Number(percentile(revoke, 95).toFixed(2)),
        load1: Number((loadavg()[0] ?? 0).toFixed(2)),
      })}\n`,
    );
  } finally {
    // users before the group; a failed delete leaves test data in an in-memory target, nothing more
    for (const path of created.reverse()) await scim('DELETE', path).catch(() => undefined);
  }
}

export async function runScimBenchWithInfra(): Promise<void> {
  await globalSetup();
  try {
    await runScimBench();
  } finally {
    await globalTeardown();
  }
}
