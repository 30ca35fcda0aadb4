import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK, infraPorts } from './infra.config';
import type { InfraPaths } from './infra.config';
import type { ComponentRuntime, InfraLog } from './infra.types';
import { pgQuery, pgServerVersion } from './health';
import { isOurProcess, reclaimPort, runChecked, spawnDetached, stopProcess, waitUntil } from './process.util';
import { requireAptAsRoot } from './prerequisites';

const PG_LIB = '/usr/lib/postgresql';
export const PG_ROLE = 'grantline';

/** Newest Debian-packaged server binary directory, e.g. /usr/lib/postgresql/15/bin. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(PG_LIB)) return undefined;
  const majors = readdirSync(PG_LIB)
    .filter((entry) => existsSync(join(PG_LIB, entry, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(PG_LIB, majors[0], 'bin');
}

async function ensurePostgresInstalled(log: InfraLog): Promise<string> {
  const found = findPostgresBin();
  if (found !== undefined) return found;
  await requireAptAsRoot('postgresql');
  const started = Date.now();
  log('postgres: installing the Debian postgresql package (first run only)...');
  // another engineer's apt run would hold dpkg's lock: queue behind the shared lock instead of failing
  await runChecked('installing postgresql', 'flock', ['/tmp/grantline-apt.lock', 'sh', '-c', 'apt-get update -q && apt-get install -y -q postgresql'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 20 * 60_000,
  });
  log(`postgres: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const installed = findPostgresBin();
  if (installed === undefined) throw new Error(`postgresql installed but no ${PG_LIB}/*/bin/postgres found`);
  return installed;
}

/** root may not run postgres: as root the server runs as the `postgres` OS user the package creates. */
export async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = await runChecked('looking up the postgres user', 'id', ['-u', 'postgres']);
  const gid = await runChecked('looking up the postgres group', 'id', ['-g', 'postgres']);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function chownForServer(path: string, user: { uid: number; gid: number } | undefined): void {
  if (user === undefined) return;
  chownSync(path, user.uid, user.gid);
}

/**
 * Where the cluster lives. As root the server runs as the `postgres` OS user, which may not be
 * able to traverse the checkout (CI clones into a 0700 temporary directory), so the data then
 * goes under the system temporary directory, in a folder named after the checkout's data dir.
 */
export function postgresDataDir(paths: InfraPaths, runsAsOtherUser: boolean): string {
  if (!runsAsOtherUser) return join(paths.data, 'postgres');
  const id = createHash('sha256').update(paths.data).digest('hex').slice(0, 16);
  return join(tmpdir(), `grantline-postgres-${id}`);
}

/**
 * A cluster is paired with its checkout by the password kept in the checkout's data dir; as root
 * the cluster lives under the system temporary directory, found by the checkout's path alone. A
 * new clone at the same path (CI reuses its work directory; /tmp outlives it) then finds the old
 * cluster without its password: nobody can log in to it or manage it any more, and its data is
 * disposable test data, so it is stopped if still running and replaced.
 */
export async function discardOrphanedCluster(dataDir: string, log: InfraLog): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
  if (Number.isInteger(pid) && pid > 0 && isOurProcess(pid, dataDir)) {
    // SIGINT is the server's fast shutdown: it disconnects clients instead of waiting for them
    await stopProcess(pid, { signal: 'SIGINT', graceMs: 30_000 });
  }
  rmSync(dataDir, { recursive: true, force: true });
  log(`postgres: ${dataDir} was left by an earlier checkout at this path (its password is gone); replaced it`);
}

const OWNER_SUFFIX = '.owner';

/**
 * Clusters under the system temporary directory whose checkout has been deleted (CI clones into
 * a fresh temporary directory each run) would pile up at ~40 MB each: each one records its
 * checkout's data dir beside it, and one whose checkout is gone is stopped and removed.
 */
export async function sweepAbandonedClusters(log: InfraLog, parent = tmpdir()): Promise<void> {
  const owners = readdirSync(parent).filter((name) => name.startsWith('grantline-postgres-') && name.endsWith(OWNER_SUFFIX));
  for (const ownerFile of owners) {
    const dataDir = join(parent, ownerFile.slice(0, -OWNER_SUFFIX.length));
    const checkoutData = readFileSync(join(parent, ownerFile), 'utf8').trim();
    if (checkoutData === '' || existsSync(checkoutData)) continue;
    await discardOrphanedCluster(dataDir, () => undefined);
    rmSync(join(parent, ownerFile), { force: true });
    log(`postgres: removed ${dataDir}, whose checkout ${checkoutData} is gone`);
  }
}

export function postgresUrl(password: string, port: number): string {
  return `postgres://${PG_ROLE}:${password}@${LOOPBACK}:${port}/postgres`;
}

export async function startLocalPostgres(paths: InfraPaths, log: InfraLog): Promise<ComponentRuntime> {
  const bin = await ensurePostgresInstalled(log);
  const user = await serverUser();
  const port = infraPorts().postgres;
  const dataDir = postgresDataDir(paths, user !== undefined);
  const passwordFile = join(paths.data, 'postgres.password');

  if (user !== undefined) await sweepAbandonedClusters(log);
  if (!existsSync(passwordFile) && existsSync(dataDir)) {
    await discardOrphanedCluster(dataDir, log);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownForServer(dataDir, user);
    const password = randomBytes(18).toString('hex');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user !== undefined) writeFileSync(`${dataDir}${OWNER_SUFFIX}`, `${paths.data}\n`);
    // initdb reads the password from a file the server user can read; it lives only for this call
    const initPw = join(dataDir, '..', `${dataDir.split('/').pop() ?? 'postgres'}.init.pw`);
    writeFileSync(initPw, `${password}\n`, { mode: 0o600 });
    chownForServer(initPw, user);
    try {
      await runChecked(
        'initdb',
        join(bin, 'initdb'),
        ['-D', dataDir, '-U', PG_ROLE, `--pwfile=${initPw}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
        { uid: user?.uid, gid: user?.gid, cwd: dataDir, timeoutMs: 120_000 },
      );
    } finally {
      rmSync(initPw, { force: true });
    }
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  await reclaimPort('postgres', LOOPBACK, port, {
    ownedPaths: [dataDir],
    signal: 'SIGINT',
    hint: 'stop it, set GRANTLINE_PG_PORT, or use it via PG_URL',
    log,
  });
  const logFile = join(paths.logs, 'postgres.log');
  const postgres = join(bin, 'postgres');
  const { pid } = spawnDetached(postgres, postgresServerArgs(dataDir, port), logFile, { uid: user?.uid, gid: user?.gid, cwd: dataDir });
  const url = postgresUrl(password, port);
  await waitUntil(`PostgreSQL at ${LOOPBACK}:${port}`, async () => (await pgQuery<{ ok: number }>(url, 'SELECT 1 AS ok'))[0]?.ok === 1, {
    timeoutMs: 60_000,
    pid,
    logFile,
  });
  return {
    component: 'postgres',
    mode: 'local',
    version: await pgServerVersion(url),
    address: `${LOOPBACK}:${port}`,
    url,
    pid,
    marker: dataDir,
    logFile,
    startedAt: new Date().toISOString(),
  };
}

/**
 * How every local PostgreSQL of the harness runs: loopback only, its socket inside the data dir (no shared
 * /var/run/postgresql, no clash with a system cluster), and no fsync: a disposable development cluster.
 */
export function postgresServerArgs(dataDir: string, port: number): string[] {
  return [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    `listen_addresses=${LOOPBACK}`,
    '-c',
    `unix_socket_directories=${dataDir}`,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ];
}
