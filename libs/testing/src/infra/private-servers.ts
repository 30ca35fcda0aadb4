// Servers of one spec's own, for fault injection: a MongoDB-wire store (FerretDB, SQLite backend), a PostgreSQL
// cluster or a Kafka broker (plaintext or SASL with ACLs) on a free port, with its data in a temporary directory. The spec may stop it (the fault) and start it
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
import { ensureMongoJavaServerLibs, mongoJavaServerLauncher } from './mongo-java-server.provider';
import { mongoPing, pgQuery } from './health';
import { KAFKA_ADMIN_USER, changeScramUsers, newKafkaBrokerSecrets, scramFormatArguments } from './kafka-security';
import type { KafkaBrokerSecrets, KafkaSecurity, KafkaUserSecret, ScramUserChange } from './kafka-security';
import { ensureKafkaLibs, kafkaLogSaysStarted, kafkaServerProperties, newKafkaClusterId } from './kafka-local.provider';
import {
  LDAP_ADMIN_DN,
  LDAP_GROUPS_DN,
  LDAP_PEOPLE_DN,
  LDAP_SUFFIX,
  createLdapDirectory,
  ensureOpenldap,
  ldapBindOk,
  ldapUrl,
  slapdArgs,
} from './ldap-local.provider';
import { PG_ROLE, chownForServer, findPostgresBin, postgresServerArgs, postgresUrl, serverUser } from './postgres-local.provider';
import { MissingPrerequisiteError, requireJava } from './prerequisites';
import { freePortOutsideEphemeralRange, isPortOpen, runChecked, runCommand, waitUntil } from './process.util';

export interface PrivateServer {
  readonly component: InfraComponent;
  /** `mongodb://127.0.0.1:<port>/`, `postgres://grantline:<password>@127.0.0.1:<port>/postgres` or `127.0.0.1:<port>` (Kafka). */
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
  readonly readyTimeoutMs?: number;
  /** The process environment (default: this process's), e.g. LD_LIBRARY_PATH for unpacked libraries. */
  readonly env?: NodeJS.ProcessEnv;
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
        env: this.spec.env ?? process.env,
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
      timeoutMs: this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS,
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

async function started<T extends PrivateServerProcess>(server: T): Promise<T> {
  try {
    await server.start();
    return server;
  } catch (error) {
    await server.dispose().catch(() => undefined);
    throw error;
  }
}

export interface PrivateFerretdbOptions extends PrivateServerOptions {
  /**
   * FerretDB's PostgreSQL backend on this database (e.g. a `startPrivatePostgres()` URL) instead of SQLite files in the
   * temporary directory. The database's data is not deleted by `dispose()`: it belongs to that server.
   */
  readonly postgresqlUrl?: string;
}

/** A FerretDB of the spec's own (the harness's pinned build), SQLite backend in a temporary directory (or `postgresqlUrl`). */
export async function startPrivateFerretdb(options: PrivateFerretdbOptions = {}): Promise<PrivateServer> {
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
      what: `private FerretDB (${options.postgresqlUrl === undefined ? 'SQLite' : 'PostgreSQL'} backend)`,
      cmd: binary,
      args: [
        `--listen-addr=${LOOPBACK}:${port}`,
        ...(options.postgresqlUrl === undefined
          ? ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`]
          : ['--handler=postgresql', `--postgresql-url=${options.postgresqlUrl}`]),
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
 * A mongo-java-server of the caller's own (in-memory backend, a JVM of `heap` size, default 4g): a local store candidate
 * weighed for the local store choice (issue 12 item 4). Its data dies with the process.
 */
export async function startPrivateMongoJavaServer(options: PrivateServerOptions & { readonly heap?: string } = {}): Promise<PrivateServer> {
  await requireJava(17);
  const paths = options.paths ?? infraPaths();
  const libs = await ensureMongoJavaServerLibs(paths, options.log ?? (() => undefined));
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-private-mongo-java-server-'));
  const url = `mongodb://${LOOPBACK}:${port}/`;
  return started(
    new PrivateServerProcess('mongo', url, port, join(home, 'mongo-java-server.log'), home, {
      what: 'private mongo-java-server',
      cmd: 'java',
      args: [`-Xmx${options.heap ?? '4g'}`, '-cp', `${libs}/*`, mongoJavaServerLauncher(paths), LOOPBACK, String(port)],
      cwd: home,
      user: undefined,
      stopSignal: 'SIGTERM',
      ready: () => mongoPing(url, 2_000),
      readyTimeoutMs: 120_000,
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

export interface PrivateKafka extends PrivateServer {
  readonly brokers: readonly string[];
  readonly security: KafkaSecurity;
  /** The bootstrap admin (a super user: creates topics, users and ACLs); undefined without SASL. */
  readonly admin: KafkaUserSecret | undefined;
  /** Creates, replaces or deletes SCRAM users (SASL only). */
  changeUsers(changes: readonly ScramUserChange[]): Promise<void>;
}

export interface PrivateKafkaOptions extends PrivateServerOptions {
  /** SASL/SCRAM-SHA-512 with the StandardAuthorizer, deny by default (ADR 0017). Default: plaintext. */
  readonly sasl?: boolean;
  /** The broker's own server.properties instead of the harness's (a deployment's configuration under test). */
  readonly serverProperties?: (layout: { dataDir: string; port: number; controllerPort: number; secrets: KafkaBrokerSecrets | undefined }) => string;
  /** SCRAM users created with the storage beside the bootstrap admin (SASL only). */
  readonly scramUsers?: readonly KafkaUserSecret[];
}

class PrivateKafkaProcess extends PrivateServerProcess implements PrivateKafka {
  constructor(
    port: number,
    home: string,
    spec: ProcessSpec,
    readonly security: KafkaSecurity,
    readonly admin: KafkaUserSecret | undefined,
    private readonly tooling: { root: string; kafkaLibs: string },
  ) {
    super('kafka', `${LOOPBACK}:${port}`, port, join(home, 'kafka.log'), home, spec);
  }

  get brokers(): readonly string[] {
    return [this.url];
  }

  async changeUsers(changes: readonly ScramUserChange[]): Promise<void> {
    if (this.admin === undefined) throw new Error('changeUsers: this private Kafka runs without SASL');
    await changeScramUsers({ ...this.tooling, brokers: this.brokers, admin: this.admin, changes });
  }
}

const KAFKA_READY_TIMEOUT_MS = 180_000;

/**
 * A Kafka broker of the spec's own (the harness's pinned jars): one combined KRaft node on free ports, its log in a
 * temporary directory; with `sasl`, SCRAM-SHA-512 and ACLs enforced, and a bootstrap admin created with the storage.
 */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  await requireJava(17);
  const paths = options.paths ?? infraPaths();
  const kafkaLibs = await ensureKafkaLibs(paths, options.log ?? (() => undefined));
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  let controllerPort = await freePortOutsideEphemeralRange(LOOPBACK);
  while (controllerPort === port) controllerPort = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-private-kafka-'));
  const dataDir = join(home, 'data');
  mkdirSync(dataDir, { recursive: true });
  const secrets = options.sasl === true ? newKafkaBrokerSecrets() : undefined;
  const config = join(home, 'server.properties');
  const log4j = join(home, 'log4j2.properties');
  const properties =
    options.serverProperties?.({ dataDir, port, controllerPort, secrets }) ??
    kafkaServerProperties({ dataDir, port, controllerPort, ...(secrets ? { sasl: secrets } : {}) });
  writeFileSync(config, properties, { mode: 0o600 });
  const users = secrets === undefined ? [] : (options.scramUsers ?? []);
  const userArguments = users.flatMap((user) => ['--add-scram', `SCRAM-SHA-512=[name=${user.username},password=${user.password}]`]);
  writeFileSync(
    log4j,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = out',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = info',
      'rootLogger.appenderRef.out.ref = out',
      'logger.request.name = kafka.request.logger',
      'logger.request.level = warn',
      '',
    ].join('\n'),
  );
  const jvmLog = `-Dlog4j2.configurationFile=${log4j}`;
  const classpath = `${kafkaLibs}/*`;
  // the admin's password is an argument of the format only (nobody could authenticate to create it later); the
  // error text never carries it
  const format = await runCommand(
    'java',
    [
      jvmLog,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      newKafkaClusterId(),
      '-c',
      config,
      ...(secrets ? scramFormatArguments(secrets) : []),
      ...userArguments,
    ],
    { timeoutMs: 120_000 },
  );
  if (format.code !== 0) {
    rmSync(home, { recursive: true, force: true });
    const output = `${format.stdout}\n${format.stderr}`;
    throw new Error(
      `formatting the private Kafka storage failed (exit ${format.code}): ${[secrets?.adminPassword, ...users.map((user) => user.password)]
        .filter((secret): secret is string => secret !== undefined)
        .reduce((text, secret) => text.split(secret).join('***'), output)}`.slice(0, 4_000),
    );
  }
  const logFile = join(home, 'kafka.log');
  const server = new PrivateKafkaProcess(
    port,
    home,
    {
      what: `private Kafka${secrets ? ' (SASL)' : ''}`,
      cmd: 'java',
      args: ['-Xms256m', '-Xmx384m', '-Djava.awt.headless=true', jvmLog, '-cp', classpath, 'kafka.Kafka', config],
      cwd: home,
      user: undefined,
      stopSignal: 'SIGTERM',
      ready: async () => (await isPortOpen(LOOPBACK, port)) && kafkaLogSaysStarted(logFile),
      readyTimeoutMs: KAFKA_READY_TIMEOUT_MS,
    },
    secrets ? 'sasl' : 'plaintext',
    secrets ? { username: KAFKA_ADMIN_USER, password: secrets.adminPassword } : undefined,
    { root: paths.root, kafkaLibs },
  );
  return started(server);
}

export interface PrivateLdap extends PrivateServer {
  /** The directory's admin (its rootdn) and password, and the seeded branches. */
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly groupsBaseDn: string;
  readonly peopleBaseDn: string;
}

class PrivateLdapProcess extends PrivateServerProcess implements PrivateLdap {
  readonly bindDn = LDAP_ADMIN_DN;
  readonly groupsBaseDn = LDAP_GROUPS_DN;
  readonly peopleBaseDn = LDAP_PEOPLE_DN;

  constructor(
    port: number,
    home: string,
    spec: ProcessSpec,
    readonly bindPassword: string,
  ) {
    super('ldap', ldapUrl(port), port, join(home, 'slapd.log'), home, spec);
  }
}

/**
 * An OpenLDAP slapd of the spec's own (the harness's unpacked Debian packages), seeded like the shared one
 * (dc=grantline,dc=test with ou=groups and ou=people), admin password random, on a free port.
 */
export async function startPrivateLdap(options: PrivateServerOptions = {}): Promise<PrivateLdap> {
  const tools = await ensureOpenldap(options.paths ?? infraPaths(), options.log ?? (() => undefined));
  const port = await freePortOutsideEphemeralRange(LOOPBACK);
  const home = mkdtempSync(join(tmpdir(), 'grantline-private-ldap-'));
  const directory = join(home, 'ldap');
  const password = randomBytes(18).toString('hex');
  try {
    await createLdapDirectory(tools, directory, password);
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const url = ldapUrl(port);
  return started(
    new PrivateLdapProcess(
      port,
      home,
      {
        what: 'private slapd',
        cmd: tools.slapd,
        args: slapdArgs(directory, port),
        cwd: directory,
        env: tools.env,
        user: undefined,
        stopSignal: 'SIGTERM',
        ready: () => ldapBindOk(url, { dn: LDAP_ADMIN_DN, password, base: LDAP_SUFFIX }, 2_000),
      },
      password,
    ),
  );
}
