import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { registry } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey } from '@grantline/http-edge';
import { KafkaMessageBus, kafkaNamespaceAccess, silentLogger } from '@grantline/messaging';
import type { ConnectorDeployment, KafkaNamespaceAccess } from '@grantline/messaging';
import { readInfraState } from '@grantline/testing';
import mongoose from 'mongoose';
import type { CpuTarget } from './stats';

const ROOT = join(__dirname, '../..');
// The list and entrypoints of tools/platform/services.ts (`npm start`): an application project, which Nx lets no
// other project import, so the eight names are repeated here.
const SERVICES = ['intake', 'policy', 'approval', 'provisioning', 'connector-postgres', 'scheduler', 'audit', 'notifier'] as const;
/** The connector the platform runs: apps/connector-postgres with its default id. */
const BENCH_CONNECTORS: readonly ConnectorDeployment[] = [{ id: 'postgres', service: 'connector-postgres' }];
export type ServiceName = (typeof SERVICES)[number];
/** A service's JSON log record, as its logger writes it. */
export type LogRecord = Readonly<Record<string, unknown>> & { readonly msg?: unknown };
const READY_TIMEOUT_MS = Number(process.env['BENCH_LIFECYCLE_START_TIMEOUT_MS'] ?? 300_000);
const STOP_GRACE_MS = 20_000;

interface Running {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly log: WriteStream;
  readonly exited: Promise<number | null>;
  readonly startedAt: number;
  readonly watchers: Set<(record: LogRecord) => void>;
  url?: string;
  readyAt?: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const isRunning = (r: Running): boolean => r.child.exitCode === null && r.child.signalCode === null;
const brokers = (): string[] =>
  (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
/** MONGO_DB as the service kit derives it from the namespace; set explicitly so the teardown drops exactly these. */
const databaseOf = (namespace: string, name: ServiceName): string => `grantline_${namespace.replace(/[^A-Za-z0-9_]/g, '_')}_${name.replace(/-/g, '_')}`;

/** A service process still alive when the bench exits (a crash, Ctrl-C twice) must not outlive it. */
const live = new Set<Running>();
process.once('exit', () => {
  for (const running of live) running.child.kill('SIGKILL');
});

/**
 * The eight services as `npm start` runs them (node -r @swc-node/register apps/<name>/src/main.ts, cwd = the
 * repository, the same env plus what keeps this platform apart: its own Kafka namespace and so its own databases,
 * its own dev-issuer key, and a port the kernel picks, so a developer's `npm start` on the fixed ports is unaffected).
 */
export class BenchPlatform {
  private readonly services: Running[] = [];
  private kafkaAccess: KafkaNamespaceAccess | undefined;
  private serviceEnv: ((name: ServiceName) => NodeJS.ProcessEnv) | undefined;

  private constructor(
    readonly runId: string,
    readonly namespace: string,
    readonly logDir: string,
    private readonly key: DevIssuerKey,
  ) {}

  /** The run's names and dev-issuer key; nothing runs yet, so a caller can register the teardown before `launch`. */
  static async create(): Promise<BenchPlatform> {
    const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const logDir = join(ROOT, '.grantline', 'bench-logs', runId);
    mkdirSync(logDir, { recursive: true });
    return new BenchPlatform(runId, `bench-${runId}`, logDir, await ensureDevIssuerKey(join(logDir, 'dev-issuer')));
  }

  /** Starts the services (default: every one) and resolves once each answers /health/ready. */
  async launch(log: (line: string) => void, names: readonly ServiceName[] = SERVICES): Promise<void> {
    const env = (name: ServiceName): NodeJS.ProcessEnv => ({
      // What tools/platform/start.ts gives every service, then this run's own namespace, database and issuer.
      PROVISIONING_RECONCILE_EVERY: 'PT1M',
      ...process.env,
      KAFKA_TOPIC_NAMESPACE: this.namespace,
      MONGO_DB: databaseOf(this.namespace, name),
      DEV_ISSUER_DIR: join(this.logDir, 'dev-issuer'),
      PORT: '0',
      HOST: '127.0.0.1',
      // The run's own checkpoint signing key, as `npm start` makes one for the local platform (ADR 0016).
      ...(name === 'audit' ? { AUDIT_SIGNING_KEY_FILE: this.auditKeyFile() } : {}),
      ...this.kafkaAccess?.envOf(name),
    });
    // On a broker with ACLs (the default, ADR 0017): the namespace provisioned, each service its own principal.
    this.kafkaAccess ??= await kafkaNamespaceAccess({ namespace: this.namespace, connectors: BENCH_CONNECTORS });
    this.serviceEnv = env;
    log(`starting ${names.length} services in Kafka namespace ${this.namespace} (logs: ${this.logDir})`);
    const started = Date.now();
    for (const name of names) this.services.push(this.spawn(name, env(name)));
    await this.waitUntilReady(started + READY_TIMEOUT_MS);
    log(`${names.length === SERVICES.length ? 'all services' : names.join(', ')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /**
   * Starts one service (again: after `kill`), with `watch` told about every log record from its first line on.
   * Resolves with the milliseconds from spawn to its first 200 on /health/ready.
   */
  async start(name: ServiceName, watch?: (record: LogRecord) => void, extraEnv: NodeJS.ProcessEnv = {}): Promise<number> {
    if (this.serviceEnv === undefined) throw new Error('launch the platform (or a first service) before starting one again');
    const running = this.spawn(name, { ...this.serviceEnv(name), ...extraEnv }, watch);
    this.services.push(running);
    await this.waitUntilReady(running.startedAt + READY_TIMEOUT_MS);
    return (running.readyAt as number) - running.startedAt;
  }

  /** `kill -9`: no drain, no goodbye; resolves once the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const alive = this.services.filter((r) => r.name === name && isRunning(r));
    for (const r of alive) r.child.kill('SIGKILL');
    await Promise.all(alive.map((r) => r.exited));
    this.forget(name);
  }

  /** A graceful stop of one service (SIGTERM, SIGKILL after the grace period). */
  async stopService(name: ServiceName): Promise<void> {
    const alive = this.services.filter((r) => r.name === name && isRunning(r));
    for (const r of alive) r.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)));
    const outcome = await Promise.race([Promise.all(alive.map((r) => r.exited)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.kill(name);
    this.forget(name);
  }

  private forget(name: ServiceName): void {
    for (let i = this.services.length - 1; i >= 0; i -= 1) {
      const r = this.services[i] as Running;
      if (r.name === name && !isRunning(r)) {
        this.services.splice(i, 1);
        r.log.end();
      }
    }
  }

  /** Written once per run beside its logs (Ed25519, PKCS#8 PEM, owner-only); never printed. */
  private auditKeyFile(): string {
    const file = join(this.logDir, 'audit-signing.pem');
    if (!existsSync(file)) writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    return file;
  }

  private spawn(name: ServiceName, env: NodeJS.ProcessEnv, watch?: (record: LogRecord) => void): Running {
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    // BENCH_PROFILE=policy,intake: those services write a V8 CPU profile beside their logs when they stop.
    const profiled = (process.env['BENCH_PROFILE'] ?? '').split(',').includes(name)
      ? ['--cpu-prof', `--cpu-prof-dir=${join(this.logDir, 'profiles', name)}`]
      : [];
    const child = spawn(process.execPath, ['--no-warnings', ...profiled, '-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const running: Running = { name, child, log, exited, startedAt: Date.now(), watchers: new Set(watch ? [watch] : []) };
    live.add(running);
    void exited.then(() => live.delete(running));
    const onLine = (line: string): void => {
      if (!log.writableEnded) log.write(`${line}\n`);
      if ((running.url === undefined && line.includes('"ready"')) || running.watchers.size > 0) {
        try {
          const record = JSON.parse(line) as LogRecord & { url?: unknown };
          if (running.url === undefined && record.msg === 'ready' && typeof record.url === 'string') running.url = record.url;
          for (const watcher of running.watchers) watcher(record);
        } catch {
          // not a JSON record
        }
      }
    };
    if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
    return running;
  }

  private async waitUntilReady(deadline: number): Promise<void> {
    const ready = new Set<ServiceName>();
    for (;;) {
      for (const r of this.services)
        if (!isRunning(r)) throw new Error(`${r.name} exited (code ${String(r.child.exitCode)}) before it was ready; see ${this.logDir}/${r.name}.log`);
      const pending = this.services.filter((r) => !ready.has(r.name) && r.url !== undefined);
      const answers = await Promise.all(
        pending.map(async (r) => {
          try {
            const response = await fetch(`${r.url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
            await response.body?.cancel();
            return response.status === 200;
          } catch {
            return false;
          }
        }),
      );
      pending.forEach((r, i) => {
        if (!answers[i]) return;
        ready.add(r.name);
        r.readyAt ??= Date.now();
      });
      if (ready.size === this.services.length) return;
      if (Date.now() > deadline)
        throw new Error(
          `not ready in time: ${this.services
            .filter((r) => !ready.has(r.name))
            .map((r) => r.name)
            .join(', ')}`,
        );
      await pause(250);
    }
  }

  url(name: ServiceName): string {
    const url = this.services.find((r) => r.name === name)?.url;
    if (url === undefined) throw new Error(`${name} has no url`);
    return url;
  }

  /** A token of this platform's dev issuer: a person (member) unless roles/workload say otherwise. */
  token(subject: string, options: { roles?: readonly string[]; workload?: boolean } = {}): Promise<string> {
    return mintDevToken(this.key, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 6 * 3_600, ...options });
  }

  /** A bus in this platform's namespace, for the bench's own publisher (the ITSM upstream) and grant watcher. */
  bus(purpose: string): KafkaMessageBus {
    return new KafkaMessageBus({ clientId: `bench-${purpose}-${this.runId}`, brokers: brokers(), registry, logger: silentLogger, namespace: this.namespace });
  }

  /** Every service process, then the infrastructure's (local: the pid the harness recorded; docker: the container's). */
  cpuTargets(): CpuTarget[] {
    const targets: CpuTarget[] = this.services.filter((r) => r.child.pid !== undefined).map((r) => ({ name: r.name, pid: r.child.pid as number }));
    const names = { kafka: 'kafka-broker', mongo: 'ferretdb', postgres: 'postgresql', ldap: 'slapd', scim: 'scim-target' } as const;
    for (const runtime of Object.values(readInfraState()?.components ?? {})) {
      if (runtime === undefined) continue;
      let pid = runtime.mode === 'local' ? runtime.pid : undefined;
      if (runtime.mode === 'docker' && runtime.containerId !== undefined) {
        try {
          pid = Number(execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', runtime.containerId], { encoding: 'utf8' }).trim()) || undefined;
        } catch {
          pid = undefined;
        }
      }
      if (pid !== undefined) targets.push({ name: names[runtime.component], pid });
    }
    return targets;
  }

  /** SIGTERM (services drain and exit), SIGKILL after the grace period. */
  async stop(): Promise<void> {
    const alive = this.services.filter(isRunning);
    for (const r of alive) r.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)));
    const outcome = await Promise.race([Promise.all(alive.map((r) => r.exited)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const r of alive.filter(isRunning)) r.child.kill('SIGKILL');
      await Promise.all(alive.map((r) => r.exited));
    }
    await Promise.all(this.services.map((r) => new Promise<void>((resolve) => (r.log.writableEnded ? resolve() : r.log.end(() => resolve())))));
  }

  /** Removes this run's topics, consumer groups and databases from the shared infrastructure (logs stay). */
  async deleteData(): Promise<void> {
    if (process.env['BENCH_LIFECYCLE_KEEP_DATA'] === '1') return;
    const bus = this.bus('cleanup');
    try {
      await bus.connect();
      await bus.deleteNamespace();
    } finally {
      await bus.disconnect();
    }
    await this.kafkaAccess?.dispose();
    const connection = await mongoose.createConnection(process.env['MONGO_URL'] ?? '').asPromise();
    try {
      for (const name of SERVICES) await connection.useDb(databaseOf(this.namespace, name), { useCache: false }).dropDatabase();
    } finally {
      await connection.close();
    }
  }
}
