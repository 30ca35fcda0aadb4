import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOPBACK, infraPaths, infraPorts } from './infra.config';
import type { InfraPaths } from './infra.config';
import type { ComponentRuntime, InfraLog } from './infra.types';
import { freePortOutsideEphemeralRange, reclaimPort, spawnDetached, waitUntil } from './process.util';

/** The SCIM 2.0 test target (SCIMMY on express), a process of its own: tools/scim-target. */
export const SCIM_TARGET_MAIN = join('tools', 'scim-target', 'src', 'main.ts');
export const SCIM_BASE_PATH = '/scim/v2';

/** What services and specs read: the SCIM base URL is SCIM_URL (endpointEnv), the token this one. */
export const SCIM_TOKEN_ENV = 'SCIM_BEARER_TOKEN';

/**
 * The local application's people and groups: the accounts the README's walkthrough and `npm start` use, a managed
 * group (`grantline-` prefix, the catalogue's `crm-sales-members`) and one the connector must never touch. Specs
 * create their own, uniquely named, through the SCIM API.
 */
export const SCIM_TARGET_SEED = {
  users: ['alice', 'bob', 'dana', 'sam'],
  groups: [
    { displayName: 'grantline-crm-sales', members: [] },
    { displayName: 'crm-admins', members: ['dana'] },
  ],
} as const;

export function scimTargetHome(paths: InfraPaths): string {
  return join(paths.data, 'scim-target');
}

/** The bearer token of the harness's target, created once (mode 0600) and kept across restarts. */
function ensureToken(paths: InfraPaths): string {
  const file = join(scimTargetHome(paths), 'token');
  if (!existsSync(file)) {
    mkdirSync(scimTargetHome(paths), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  return file;
}

export function readScimToken(tokenFile: string): string {
  return readFileSync(tokenFile, 'utf8').trim();
}

/** True when the target answers an authenticated SCIM request (not merely an open port). */
export async function scimTargetAnswers(url: string, token: string | undefined): Promise<boolean> {
  const response = await fetch(`${url}/ServiceProviderConfig`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  await response.arrayBuffer();
  if (response.status === 401) throw new Error(`${url} refused the bearer token (401)`);
  return response.status === 200;
}

function scimmyVersion(root: string): string {
  try {
    const { version } = JSON.parse(readFileSync(join(root, 'node_modules', 'scimmy', 'package.json'), 'utf8')) as { version?: string };
    return `SCIMMY ${version ?? '?'} on express`;
  } catch {
    return 'SCIMMY on express';
  }
}

/**
 * Starts tools/scim-target as a detached process (it outlives `infra up`, like the other local servers) on loopback,
 * `GRANTLINE_SCIM_PORT` (18443), its users and groups in memory, seeded with SCIM_TARGET_SEED at every start. The
 * token reaches it through its environment, never its arguments (world-readable in /proc).
 */
export async function startLocalScimTarget(paths: InfraPaths, log: InfraLog): Promise<ComponentRuntime> {
  const port = infraPorts().scim;
  const main = join(paths.root, SCIM_TARGET_MAIN);
  if (!existsSync(main)) throw new Error(`scim-target: ${main} is missing`);
  const tokenFile = ensureToken(paths);
  const seedFile = join(scimTargetHome(paths), 'seed.json');
  writeFileSync(seedFile, `${JSON.stringify(SCIM_TARGET_SEED, null, 2)}\n`);
  await reclaimPort('scim-target', LOOPBACK, port, { ownedPaths: [main], hint: 'stop it, set GRANTLINE_SCIM_PORT, or use it via SCIM_URL', log });
  const logFile = join(paths.logs, 'scim-target.log');
  const { pid } = spawnDetached(process.execPath, ['--no-warnings', '-r', '@swc-node/register', main], logFile, {
    cwd: paths.root,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      SCIM_TARGET_HOST: LOOPBACK,
      SCIM_TARGET_PORT: String(port),
      SCIM_TARGET_TOKEN: readScimToken(tokenFile),
      SCIM_TARGET_SEED_FILE: seedFile,
    },
  });
  const url = `http://${LOOPBACK}:${port}${SCIM_BASE_PATH}`;
  await waitUntil(`the SCIM target at ${LOOPBACK}:${port}`, () => scimTargetAnswers(url, readScimToken(tokenFile)), { timeoutMs: 60_000, pid, logFile });
  log(`scim-target: started (pid ${pid}) at ${url}`);
  return {
    component: 'scim',
    mode: 'local',
    version: scimmyVersion(paths.root),
    address: `${LOOPBACK}:${port}`,
    url,
    pid,
    marker: main,
    logFile,
    credentialsFile: tokenFile,
    startedAt: new Date().toISOString(),
  };
}

export interface PrivateScimTarget {
  /** `http://127.0.0.1:<port>/scim/v2` */
  readonly url: string;
  readonly token: string;
  /** `http://127.0.0.1:<port>/_control`: the target's fault and rate-limit switches (same token). */
  readonly controlUrl: string;
  readonly logFile: string;
  dispose(): Promise<void>;
}

/**
 * A SCIM target of one spec's own (a child of the jest worker on a free port, its own token and seed): for fault
 * injection (429s, 503s, delays) that must not reach specs sharing the harness's target.
 */
export async function startPrivateScimTarget(
  options: { seed?: { users?: readonly string[]; groups?: readonly { displayName: string; members?: readonly string[] }[] }; paths?: InfraPaths } = {},
): Promise<PrivateScimTarget> {
  const paths = options.paths ?? infraPaths();
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-scim-'));
  const token = randomBytes(24).toString('hex');
  const seedFile = join(home, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(options.seed ?? {}));
  const logFile = join(home, 'scim-target.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--no-warnings', '-r', '@swc-node/register', join(paths.root, SCIM_TARGET_MAIN)], {
    cwd: paths.root,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      SCIM_TARGET_HOST: LOOPBACK,
      SCIM_TARGET_PORT: String(port),
      SCIM_TARGET_TOKEN: token,
      SCIM_TARGET_SEED_FILE: seedFile,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const dispose = async (): Promise<void> => {
    process.removeListener('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  const url = `http://${LOOPBACK}:${port}${SCIM_BASE_PATH}`;
  try {
    await waitUntil(`a private SCIM target at ${LOOPBACK}:${port}`, () => scimTargetAnswers(url, token), { timeoutMs: 60_000, pid: child.pid, logFile });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url, token, controlUrl: `http://${LOOPBACK}:${port}/_control`, logFile, dispose };
}
