import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgQuery } from './health';
import { infraPaths } from './infra.config';
import { postgresDataDir, startLocalPostgres, sweepAbandonedClusters } from './postgres-local.provider';
import { freePortOutsideEphemeralRange, isAlive, stopProcess } from './process.util';

// CI reuses its work directory for every fresh clone while /tmp outlives each run: the cluster of
// an earlier clone at the same path must not stop the next one from starting.
describe('local PostgreSQL for a fresh clone at a path an earlier checkout used', () => {
  const checkout = mkdtempSync(join(tmpdir(), 'grantline-pg-checkout-'));
  const paths = infraPaths(checkout);
  const runsAsOtherUser = process.getuid?.() === 0;
  const started: number[] = [];
  const previousPort = process.env['GRANTLINE_PG_PORT'];

  afterAll(async () => {
    for (const pid of started) await stopProcess(pid, { signal: 'SIGINT', graceMs: 30_000 });
    rmSync(postgresDataDir(paths, runsAsOtherUser), { recursive: true, force: true });
    rmSync(`${postgresDataDir(paths, runsAsOtherUser)}.owner`, { force: true });
    rmSync(checkout, { recursive: true, force: true });
    if (previousPort === undefined) delete process.env['GRANTLINE_PG_PORT'];
    else process.env['GRANTLINE_PG_PORT'] = previousPort;
  });

  it('stops and replaces the orphaned cluster, and the new one answers with the new password', async () => {
    process.env['GRANTLINE_PG_PORT'] = String(await freePortOutsideEphemeralRange());
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(line);

    mkdirSync(paths.data, { recursive: true });
    const first = await startLocalPostgres(paths, log);
    started.push(first.pid ?? -1);
    expect((await pgQuery<{ one: number }>(first.url, 'SELECT 1 AS one'))[0]?.one).toBe(1);

    // the earlier clone is gone (its password with it) while its server still runs
    rmSync(paths.data, { recursive: true, force: true });
    mkdirSync(paths.data, { recursive: true });

    const second = await startLocalPostgres(paths, log);
    started.push(second.pid ?? -1);
    expect(isAlive(first.pid ?? -1)).toBe(false);
    expect(second.url).not.toBe(first.url);
    expect((await pgQuery<{ one: number }>(second.url, 'SELECT 1 AS one'))[0]?.one).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/left by an earlier checkout at this path/));
    expect(existsSync(join(postgresDataDir(paths, runsAsOtherUser), 'PG_VERSION'))).toBe(true);
  }, 180_000);
});

describe('clusters left under the temporary directory by deleted checkouts', () => {
  const parent = mkdtempSync(join(tmpdir(), 'grantline-pg-sweep-'));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('removes a cluster whose checkout is gone and keeps one whose checkout exists', async () => {
    const liveCheckout = mkdtempSync(join(parent, 'checkout-'));
    for (const [name, owner] of [
      ['grantline-postgres-abandoned', join(parent, 'deleted-checkout', '.grantline')],
      ['grantline-postgres-live', liveCheckout],
    ] as const) {
      mkdirSync(join(parent, name));
      writeFileSync(join(parent, name, 'PG_VERSION'), '15\n');
      writeFileSync(join(parent, `${name}.owner`), `${owner}\n`);
    }
    const lines: string[] = [];

    await sweepAbandonedClusters((line) => void lines.push(line), parent);

    expect(existsSync(join(parent, 'grantline-postgres-abandoned'))).toBe(false);
    expect(existsSync(join(parent, 'grantline-postgres-abandoned.owner'))).toBe(false);
    expect(existsSync(join(parent, 'grantline-postgres-live', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(parent, 'grantline-postgres-live.owner'))).toBe(true);
    expect(lines).toEqual([expect.stringMatching(/grantline-postgres-abandoned, whose checkout .*deleted-checkout.* is gone/)]);
  });
});
