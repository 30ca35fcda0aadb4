// The whole platform for one e2e spec file: every service as its own process, exactly as `npm start` runs it
// (node -r @swc-node/register apps/<app>/src/main.ts, cwd = repository root), on free ports, against the
// infrastructure jest's global setup brought up. Each platform lives in a Kafka namespace of its own
// (KAFKA_TOPIC_NAMESPACE): its topics, consumer groups and timers are invisible to every other platform and
// spec sharing the broker, and its services read the repository's catalogue and nothing else. Logs go to files under .grantline/e2e-logs/<run>/ and their
// tails are attached to a failing test's error.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { prepareCompiledServices, serviceLaunch } from './compiled-services';
import type { CompiledServices } from './compiled-services';
import { DevTokenIssuer } from './dev-token.issuer';
import { platformKafkaAccess } from './platform-kafka';
import type { PlatformKafkaAccess } from './platform-kafka';

export type ServiceName =
  | 'intake'
  | 'policy'
  | 'approval'
  | 'provisioning'
  | 'scheduler'
  | 'audit'
  | 'connector-postgres'
  | 'notifier'
  // started only by the scenarios that name it (not in ALL_SERVICES)
  | 'connector-kafka-acl'
  | 'connector-ldap'
  | 'connector-credentials'
  | 'connector-scim'
  // the one origin (apps/gateway): started once the services it fronts are ready, with their urls
  | 'gateway';

/** Start order; all start at once, the order only decides how logs and tables read. */
export const ALL_SERVICES: readonly ServiceName[] = ['intake', 'policy', 'approval', 'provisioning', 'scheduler', 'audit', 'connector-postgres', 'notifier'];

export const REPO_ROOT = join(__dirname, '../../..');
const READY_TIMEOUT_MS = 300_000;
/**
 * jest takes testTimeout from the root config only (60 s), so hooks and tests pass these explicitly: starting
 * seven services on two cores while other specs run takes longer than that.
 */
export const START_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
export const SCENARIO_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 15_000;
const POLL_MS = 250;

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly contentType: string;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Running {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly log: WriteStream;
  readonly exited: Promise<number | null>;
  url?: string;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Set by `Platform.start` in GRANTLINE_E2E_BUILD=dist mode: this worker's build and how the image starts a service. */
let compiled: CompiledServices | undefined;

/**
 * Every service process this jest worker started and that has not exited. A start that outlives its hook's
 * timeout is still stopped by `stopStartedServices`, and a worker that exits takes its services with it.
 */
const live = new Set<Running>();
process.once('exit', () => {
  for (const running of live) running.child.kill('SIGKILL');
});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: e2e specs need jest's global setup (run them with npm test or --selectProjects e2e)`);
  }
  return value;
}

/** The Kafka namespace of a run: every topic, group and transactional id of its services carries it. */
export const namespaceOf = (runId: string): string => `e2e-${runId}`;

/** The MongoDB database of one service of one run. */
const databaseName = (runId: string, name: ServiceName): string => `e2e_${runId}_${name.replace(/-/g, '_')}`;

/** The Ed25519 key the audit of a run signs its log checkpoints with (PKCS#8 PEM, owner-only). */
const auditKeyFile = (devIssuerDir: string): string => join(dirname(devIssuerDir), 'audit-signing.pem');

/** The key a run's connectors seal issued secrets under: created once per run (a restart keeps it), owner-only. */
function runSealingKey(devIssuerDir: string): string {
  const file = join(dirname(devIssuerDir), 'credential-sealing.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** Per-service settings; the rest comes from the harness (KAFKA_BROKERS, MONGO_URL, PG_URL). */
function serviceEnv(name: ServiceName, runId: string, devIssuerDir: string): NodeJS.ProcessEnv {
  const common: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    KAFKA_TOPIC_NAMESPACE: namespaceOf(runId),
    MONGO_DB: databaseName(runId, name),
    DEV_ISSUER_DIR: devIssuerDir,
  };
  switch (name) {
    case 'intake':
    case 'approval':
      return { ...common, AUTH_MODE: 'dev' };
    case 'policy':
    case 'provisioning':
    case 'notifier':
      return common;
    case 'audit':
      // The run's own checkpoint signing key (written by Platform.start beside the dev issuer).
      return { ...common, AUDIT_SIGNING_KEY_FILE: auditKeyFile(devIssuerDir), AUDIT_CHECKPOINT_INTERVAL_MS: '2000' };
    case 'scheduler':
      return { ...common, CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true', SCHEDULER_TICK_INTERVAL_MS: '200' };
    case 'connector-postgres':
      return { ...common, PG_URL: requiredEnv('PG_URL'), CONNECTOR_RETRY_BASE_MS: '100', CONNECTOR_RETRY_MAX_MS: '1000' };
    case 'connector-kafka-acl':
      // the platform's broker is the target; its own principal (connector:kafka-acl) holds ALTER on the cluster
      return { ...common, CONNECTOR_RETRY_BASE_MS: '100', CONNECTOR_RETRY_MAX_MS: '1000' };
    case 'gateway':
      return common;
    case 'connector-scim':
      // the harness's SCIM target (tools/scim-target), its URL and token exported by jest's global setup
      return {
        ...common,
        SCIM_URL: requiredEnv('SCIM_URL'),
        SCIM_BEARER_TOKEN: requiredEnv('SCIM_BEARER_TOKEN'),
        CONNECTOR_RETRY_BASE_MS: '100',
        CONNECTOR_RETRY_MAX_MS: '1000',
      };
    case 'connector-credentials':
      // the run's own sealing key, and its issuer keys (JWT, CA) created by the connector on first start
      return {
        ...common,
        AUTH_MODE: 'dev',
        CREDENTIAL_SEALING_KEY: runSealingKey(devIssuerDir),
        CREDENTIAL_DEV_KEYS_DIR: join(dirname(devIssuerDir), 'credentials-issuer'),
        CONNECTOR_RETRY_BASE_MS: '100',
        CONNECTOR_RETRY_MAX_MS: '1000',
      };
    case 'connector-ldap':
      // the harness's slapd (its admin bind and branches, exported by jest's global setup)
      return {
        ...common,
        ...Object.fromEntries(
          ['LDAP_URL', 'LDAP_BIND_DN', 'LDAP_BIND_PASSWORD', 'LDAP_GROUPS_BASE_DN', 'LDAP_PEOPLE_BASE_DN'].map((name) => [name, requiredEnv(name)]),
        ),
        CONNECTOR_RETRY_BASE_MS: '100',
        CONNECTOR_RETRY_MAX_MS: '1000',
      };
  }
}

/** Start-up route listings and the specs' own polling requests would crowd out what matters. */
const NOISE = /"context":"(http|RouterExplorer|RoutesResolver|InstanceLoader)"/;

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !NOISE.test(line))
    .slice(-lines - 1)
    .join('\n');
}

/** The url a service logs in its `ready` record (PORT=0 lets the kernel pick a free port). */
function readyUrlOf(line: string): string | undefined {
  if (!line.includes('"ready"')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return record.msg === 'ready' && typeof record.url === 'string' ? record.url : undefined;
  } catch {
    return undefined;
  }
}

function spawnService(name: ServiceName, env: NodeJS.ProcessEnv, logDir: string): Running {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const launch = serviceLaunch(name, env, REPO_ROOT, compiled);
  const child = spawn(process.execPath, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: Running = { name, child, logFile, log, exited };
  live.add(running);
  void exited.then(() => live.delete(running));
  const onLine = (line: string): void => {
    if (!log.writableEnded) log.write(`${line}\n`);
    running.url ??= readyUrlOf(line);
  };
  if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
  if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
  return running;
}

/** The services apps/gateway routes to (its UPSTREAM_SERVICES). */
const GATEWAY_UPSTREAMS = ['intake', 'policy', 'approval', 'scheduler', 'audit', 'connector-credentials', 'connector-postgres'] as const;
/** Where nothing listens (the discard port): a fronted service the platform does not run answers 503, never another platform's. */
const NO_SERVICE_URL = 'http://127.0.0.1:9';

/** `GATEWAY_<SERVICE>_URL` of each service the gateway fronts: the platform's own, or nowhere. */
function gatewayUpstreamEnv(services: readonly Running[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    GATEWAY_UPSTREAMS.map((name) => [
      `GATEWAY_${name.toUpperCase().replace(/-/g, '_')}_URL`,
      services.find((running) => running.name === name)?.url ?? NO_SERVICE_URL,
    ]),
  );
}

const isRunning = (running: Running): boolean => running.child.exitCode === null && running.child.signalCode === null;

async function answersReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export class Platform {
  /** Milliseconds from spawn until every service answered /health/ready. */
  startupMs = 0;

  private constructor(
    readonly runId: string,
    readonly logDir: string,
    readonly tokens: DevTokenIssuer,
    private readonly services: Running[],
    private readonly envOf: (name: ServiceName) => NodeJS.ProcessEnv,
    /** On a broker with ACLs: the namespace's access, released with the platform's data. */
    readonly kafkaAccess?: PlatformKafkaAccess,
  ) {}

  /** The Kafka namespace of this platform's topics and groups (for readers of its log). */
  get namespace(): string {
    return namespaceOf(this.runId);
  }

  /**
   * Starts the given services (default: all) and resolves once every /health/ready answers 200. A service that
   * exits or is not ready in time fails the start with the tail of its log, after stopping the others.
   */
  static async start(
    label: string,
    names: readonly ServiceName[] = ALL_SERVICES,
    envOverrides: Readonly<Partial<Record<ServiceName, NodeJS.ProcessEnv>>> = {},
  ): Promise<Platform> {
    const runId = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '')}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const logDir = join(REPO_ROOT, '.grantline', 'e2e-logs', runId);
    mkdirSync(logDir, { recursive: true });
    const devIssuerDir = join(logDir, 'dev-issuer');
    // The key pair exists before any service starts, so the intake and approval read the same one.
    const tokens = await DevTokenIssuer.create(devIssuerDir);
    // GRANTLINE_E2E_BUILD=dist: the compiled build, started as the image starts it (compiled-services.ts)
    compiled = await prepareCompiledServices(REPO_ROOT, devIssuerDir);
    writeFileSync(auditKeyFile(devIssuerDir), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    // a broker with ACLs: the namespace provisioned, each service its own principal (undefined on plaintext)
    const kafkaAccess = await platformKafkaAccess(namespaceOf(runId), process.env, names);
    const services: Running[] = [];
    const envOf = (name: ServiceName): NodeJS.ProcessEnv => ({
      ...process.env,
      ...serviceEnv(name, runId, devIssuerDir),
      // the gateway has no Kafka principal; it needs the urls of the services it fronts instead
      ...(name === 'gateway' ? gatewayUpstreamEnv(services) : kafkaAccess?.envOf(name)),
      ...envOverrides[name],
    });
    const started = Date.now();
    services.push(...names.filter((name) => name !== 'gateway').map((name) => spawnService(name, envOf(name), logDir)));
    const platform = new Platform(runId, logDir, tokens, services, envOf, kafkaAccess);
    try {
      await platform.waitUntilReady(services, started + READY_TIMEOUT_MS);
      if (names.includes('gateway')) {
        const gateway = spawnService('gateway', envOf('gateway'), logDir);
        services.push(gateway);
        await platform.waitUntilReady([gateway], started + READY_TIMEOUT_MS);
      }
    } catch (error) {
      const report = platform.logTails(30);
      await platform.stop();
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${report}`);
    }
    platform.startupMs = Date.now() - started;
    return platform;
  }

  private async waitUntilReady(services: readonly Running[], deadline: number): Promise<void> {
    const ready = new Set<ServiceName>();
    for (;;) {
      for (const running of services) {
        if (!isRunning(running)) throw new Error(`${running.name} exited (code ${String(running.child.exitCode)}) before it was ready`);
      }
      const pending = services.filter((running) => !ready.has(running.name) && running.url !== undefined);
      const answers = await Promise.all(pending.map((running) => answersReady(running.url ?? '')));
      pending.forEach((running, i) => {
        if (answers[i]) ready.add(running.name);
      });
      if (ready.size === services.length) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not ready in time: ${services
            .filter((r) => !ready.has(r.name))
            .map((r) => r.name)
            .join(', ')}`,
        );
      }
      await pause(POLL_MS);
    }
  }

  private running(name: ServiceName): Running {
    const running = this.services.find((candidate) => candidate.name === name);
    if (running === undefined) throw new Error(`${name} is not part of this platform`);
    return running;
  }

  /** The MongoDB database the service keeps its read models in. */
  database(name: ServiceName): string {
    this.running(name);
    return databaseName(this.runId, name);
  }

  /** SIGKILL, as a crash or an OOM kill would: no drain, no goodbye. Resolves once the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const running = this.running(name);
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /**
   * Starts the service again with the same settings (same namespace, database, consumer group) and resolves once
   * it is ready; a running instance is stopped first. Its log continues in the same file.
   */
  async restart(name: ServiceName): Promise<number> {
    const previous = this.running(name);
    if (isRunning(previous)) await stopProcesses([previous]);
    else await new Promise<void>((resolve) => (previous.log.writableEnded ? resolve() : previous.log.end(() => resolve())));
    const started = Date.now();
    const next = spawnService(name, this.envOf(name), this.logDir);
    this.services.splice(this.services.indexOf(previous), 1, next);
    await this.waitUntilReady([next], started + READY_TIMEOUT_MS);
    return Date.now() - started;
  }

  url(name: ServiceName): string {
    const url = this.running(name).url;
    if (url === undefined) throw new Error(`${name} has not reported its url`);
    return url;
  }

  /** The services this platform runs. */
  get serviceNames(): ServiceName[] {
    return this.services.map((running) => running.name);
  }

  has(name: ServiceName): boolean {
    return this.services.some((candidate) => candidate.name === name);
  }

  /** One HTTP call; JSON in and out (problem+json included). */
  async call<T = unknown>(name: ServiceName, method: string, path: string, options: CallOptions = {}): Promise<HttpAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.url(name)}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, contentType: response.headers.get('content-type') ?? '' };
  }

  /** The last lines of every service's log (or of the named ones), for a failure message. */
  logTails(lines = 40, names?: readonly ServiceName[]): string {
    return this.services
      .filter((running) => names === undefined || names.includes(running.name))
      .map((running) => `\n----- ${running.name} (${running.logFile}) -----\n${tail(running.logFile, lines)}`)
      .join('\n');
  }

  /**
   * Wraps a test body: when it fails, the error carries the tails of the service logs, so a red e2e run
   * says what the services were doing without re-running it.
   */
  withLogs(body: () => Promise<void>, names?: readonly ServiceName[]): () => Promise<void> {
    return async () => {
      try {
        await body();
      } catch (error) {
        if (error instanceof Error) {
          error.message = `${error.message}\n\nservice logs (run ${this.runId}):${this.logTails(25, names)}`;
          throw error;
        }
        throw new Error(`${String(error)}\n\nservice logs (run ${this.runId}):${this.logTails(25, names)}`);
      }
    };
  }

  /** SIGTERM to all (they drain and exit 0), SIGKILL to any still running after the grace period. */
  stop(): Promise<void> {
    return stopProcesses(this.services);
  }
}

async function stopProcesses(services: readonly Running[]): Promise<void> {
  const alive = services.filter(isRunning);
  for (const running of alive) running.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([Promise.all(alive.map((running) => running.exited)), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    for (const running of alive.filter(isRunning)) running.child.kill('SIGKILL');
    await Promise.all(alive.map((running) => running.exited));
  }
  await Promise.all(
    services.map((running) => (running.log.writableEnded ? Promise.resolve() : new Promise<void>((resolve) => running.log.end(() => resolve())))),
  );
}

/**
 * Stops every service this worker started, including those of a start still in flight (its hook timed out):
 * call it in afterAll so no service outlives the spec file.
 */
export function stopStartedServices(): Promise<void> {
  return stopProcesses([...live]);
}
