// Servers of one spec's own, for fault injection: a MongoDB-wire store (FerretDB, SQLite backend) or a PostgreSQL
// cluster on a free port, with its data in a temporary directory. The spec may stop it (the fault) and start it
// again on the same port with the same data (the recovery) without touching the shared servers of jest's global
// setup, which other specs use at the same time. Each is a child process of the jest worker: `dispose()` stops it
// and deletes its data, and a worker that exits takes its servers with it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOPBACK, infraPaths } from './infra.config';
import type { InfraPaths } from './infra.config';
import type { InfraComponent, InfraLog } from './infra.types';
import { ensureFerretdbBinary } from './ferretdb-local.provider';
import { mongoPing, pgQuery } from './health';
import { PG_ROLE, chownForServer, findPostgresBin, postgresServerArgs, postgresUrl, serverUser } from './postgres-local.provider';
import { MissingPrerequisiteError } from './prerequisites';
import { freePortOutsideEphemeralRange, runChecked, waitUntil } from './process.util';

export interface PrivateServer {
  readonly component: Extract<InfraComponent, 'mongo' | 'postgres'>;
  /** `mongodb://127.0.0.1:<port>/` or `postgres://grantline:<password>@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** The server's own output, appended across restarts. */
  readonly logFile: string;
  /** Whether its process runs now. */
  isRunning(): boolean;
  /** Stops the server (graceful signal, SIGKILL after 15 s); its data stays. Resolves once the process is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers a real round trip. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

export interface PrivateServerOptions {
  readonly log?: InfraLog;
  readonly paths?: InfraPaths;
}

interface ProcessSpec {
  readonly what: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly user: { uid: number; gid: number } | undefined;
  /** FerretDB stops on SIGTERM; PostgreSQL's fast shutdown (disconnect the clients, then stop) is SIGINT. */
  readonly stopSignal: NodeJS.Signals;
  readonly ready: () => Promise<boolean>;
}

const STOP_GRACE_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;

/** Every private server process of this worker still running: killed when the worker exits, whatever the spec did. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const running of live) running.kill('SIGKILL');
  });
}

class PrivateServerProcess implements PrivateServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly component: PrivateServer['component'],
    readonly url: string,
    readonly port: number,
    readonly logFile: string,
    private readonly home: string,
    private readonly spec: ProcessSpec,
  ) {}

  isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.isRunning()) return;
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.cmd, this.spec.args, {
        cwd: this.spec.cwd,
        uid: this.spec.user?.uid,
        gid: this.spec.user?.gid,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`${this.spec.what}: could not start ${this.spec.cmd}`);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    track(child);
    await waitUntil(`${this.spec.what} at ${LOOPBACK}:${this.port}`, this.spec.ready, {
      timeoutMs: READY_TIMEOUT_MS,
      pid: child.pid,
      logFile: this.logFile,
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.isRunning()) return;
    child.kill(this.spec.stopSignal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

async function started(server: PrivateServerProcess): Promise<PrivateServer> {
  try {
    await server.start();
    return server;
  } catch (error) {
    await server.dispose().catch(() => undefined);
    throw error;
  }
}

/** A FerretDB of the spec's own (the harness's pinned build), SQLite backend in a temporary directory. */
export async function startPrivateFerretdb(options: PrivateServerOptions = {}): Promise<PrivateServer> {
  const binary = await ensureFerretdbBinary(options.paths ?? infraPaths(), options.log ?? (() => undefined));
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-private-ferretdb-'));
  const dataDir = join(home, 'data');
  const stateDir = join(home, 'state');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const url = `mongodb://${LOOPBACK}:${port}/`;
  return started(
    new PrivateServerProcess('mongo', url, port, join(home, 'ferretdb.log'), home, {
      what: 'private FerretDB',
      cmd: binary,
      args: [
        `--listen-addr=${LOOPBACK}:${port}`,
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${stateDir}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      cwd: home,
      user: undefined,
      stopSignal: 'SIGTERM',
      ready: () => mongoPing(url, 2_000),
    }),
  );
}

/**
 * A PostgreSQL cluster of the spec's own (the installed server binaries; `npm run infra:up` installs them), superuser
 * `grantline` with a random password. As root the server runs as the `postgres` OS user, like the shared one.
 */
export async function startPrivatePostgres(_options: PrivateServerOptions = {}): Promise<PrivateServer> {
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new MissingPrerequisiteError(
      'the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)',
      'Run `npm run infra:up` once (it installs them) or `apt-get install -y postgresql`',
    );
  }
  const user = await serverUser();
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-private-pg-'));
  chownForServer(home, user);
  const dataDir = join(home, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  chownForServer(dataDir, user);
  const password = randomBytes(18).toString('hex');
  const passwordFile = join(home, 'initdb.pw');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chownForServer(passwordFile, user);
  try {
    await runChecked(
      'initdb (private cluster)',
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', PG_ROLE, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
      { uid: user?.uid, gid: user?.gid, cwd: home, timeoutMs: 120_000 },
    );
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(passwordFile, { force: true });
  }
  const url = postgresUrl(password, port);
  return started(
    new PrivateServerProcess('postgres', url, port, join(home, 'postgres.log'), home, {
      what: 'private PostgreSQL',
      cmd: join(bin, 'postgres'),
      args: postgresServerArgs(dataDir, port),
      cwd: dataDir,
      user,
      stopSignal: 'SIGINT',
      ready: async () => (await pgQuery<{ ok: number }>(url, 'SELECT 1 AS ok'))[0]?.ok === 1,
    }),
  );
}
