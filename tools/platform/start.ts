// `npm start`: infrastructure through the test harness's manager, then the six services as child
// processes, each reported once its /health/ready answers 200. Ctrl-C (SIGINT) or SIGTERM stops the
// services gracefully, then the infrastructure this command started, and exits 0 (1 when a service
// failed to start or exited on its own).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { prettyLogLine } from '@grantline/service-kit';
import { LOCAL_CONNECTORS, describeComponent, exportEndpoints, infraDown, infraPaths, infraUp, otherLiveLeases } from '@grantline/testing';
import type { InfraUpResult } from '@grantline/testing';
import { ensureLocalAuditKey } from './audit-key';
import { localCredentialEnv } from './credential-keys';
import { kafkaNamespaceAccess } from './kafka-access';
import { PLATFORM_SERVICES, gatewayUpstreamEnv } from './services';
import type { PlatformService } from './services';

const ROOT = join(__dirname, '../..');
/** The connectors that hand secrets over: they get the sealing key (and with it the retrieval route). */
const ISSUES_CREDENTIALS: ReadonlySet<string> = new Set(['connector-postgres', 'connector-credentials']);
const LOCAL_NAMESPACE = 'local';
const READY_TIMEOUT_MS = Number(process.env['GRANTLINE_START_TIMEOUT_MS'] ?? 180_000);
/** Each service bounds its own graceful stop (SHUTDOWN_TIMEOUT_MS, 10 s); this is the backstop. */
const STOP_GRACE_MS = 20_000;
const POLL_MS = 250;

const tty = process.stdout.isTTY === true;
const COLOURS = [36, 33, 35, 32, 34, 31];
const paint = (code: number, text: string): string => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const say = (line: string): void => {
  process.stdout.write(`${paint(1, 'grantline')} | ${line}\n`);
};

interface Running {
  readonly service: PlatformService;
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  ready: boolean;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** People read the services' JSON lines formatted; `GRANTLINE_LOG_FORMAT=json` forwards them untouched for tools. */
const PRETTY = process.env['GRANTLINE_LOG_FORMAT'] !== 'json';

function forwardLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WriteStream): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    out.write(`${prefix} | ${PRETTY ? prettyLogLine(line, { colour: tty }) : line}\n`),
  );
}

function startService(service: PlatformService, index: number, env: NodeJS.ProcessEnv): Running {
  // --no-warnings: the service logs process warnings as JSON records itself.
  const child = spawn(process.execPath, ['--no-warnings', '-r', '@swc-node/register', service.main], {
    cwd: ROOT,
    env: { ...env, PORT: String(service.port), HOST: env['HOST'] ?? '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only this command, which then stops the
    // services in order instead of racing them (a service that exits on its own is a failure).
    detached: true,
  });
  const width = Math.max(...PLATFORM_SERVICES.map((s) => s.name.length));
  const prefix = paint(COLOURS[index % COLOURS.length] ?? 37, service.name.padEnd(width));
  if (child.stdout) forwardLines(child.stdout, prefix, process.stdout);
  if (child.stderr) forwardLines(child.stderr, prefix, process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { service, child, url: `http://127.0.0.1:${service.port}`, exited, ready: false };
}

function isRunning(running: Running): boolean {
  return running.child.exitCode === null && running.child.signalCode === null;
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function waitUntilReady(all: readonly Running[], deadline: number, stopping: () => boolean): Promise<void> {
  for (;;) {
    if (stopping()) return;
    const pending = all.filter((running) => !running.ready);
    if (pending.length === 0) return;
    for (const running of pending) {
      if (!isRunning(running)) throw new Error(`${running.service.name} exited (code ${String(running.child.exitCode)}) before it was ready`);
    }
    const answers = await Promise.all(pending.map((running) => answersReady(running.url)));
    pending.forEach((running, i) => {
      if (answers[i]) running.ready = true;
    });
    if (Date.now() > deadline) {
      throw new Error(
        `not ready after ${READY_TIMEOUT_MS} ms: ${pending
          .filter((r) => !r.ready)
          .map((r) => r.service.name)
          .join(', ')}`,
      );
    }
    if (pending.some((running) => !running.ready)) await pause(POLL_MS);
  }
}

function table(all: readonly Running[]): string {
  const rows = [['service', 'url', 'ready', 'pid'], ...all.map((r) => [r.service.name, r.url, `${r.url}/health/ready`, String(r.child.pid)])];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
  const line = (row: readonly string[]): string => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ');
  return [line(rows[0] ?? []), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

async function stopServices(all: readonly Running[]): Promise<void> {
  const alive = all.filter(isRunning);
  if (alive.length === 0) return;
  say(`stopping ${alive.map((r) => r.service.name).join(', ')} (SIGTERM)...`);
  for (const running of alive) running.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([Promise.all(alive.map((r) => r.exited)), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    for (const running of alive.filter(isRunning)) {
      say(`${running.service.name} did not stop within ${STOP_GRACE_MS} ms: SIGKILL`);
      running.child.kill('SIGKILL');
    }
    await Promise.all(alive.map((r) => r.exited));
  }
  for (const running of alive) {
    const code = running.child.exitCode;
    say(`${running.service.name} stopped (${code !== null ? `exit ${code}` : `signal ${String(running.child.signalCode)}`})`);
  }
}

async function stopInfra(infra: InfraUpResult | undefined): Promise<void> {
  if (!infra || infra.started.length === 0) {
    if (infra) say('infrastructure left running: it was already up when this command started');
    return;
  }
  const reusedLocal = infra.components.filter((c) => infra.reused.includes(c.component) && c.mode !== 'env');
  if (reusedLocal.length > 0) {
    say(`infrastructure left running: ${reusedLocal.map((c) => c.component).join(', ')} was already up (stop it with npm run infra:down)`);
    return;
  }
  say(`stopping the infrastructure this command started (${infra.started.join(', ')})...`);
  const paths = infraPaths();
  await infraDown({
    log: say,
    keepRunningIf: () => {
      const others = otherLiveLeases(paths);
      return others.length > 0 ? `jest run(s) ${others.join(', ')} use it; stop it later with npm run infra:down` : undefined;
    },
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const services: Running[] = [];
  let infra: InfraUpResult | undefined;
  let stopping = false;
  let exitCode = 0;
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => {
    resolveStop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received, shutting down`);
    resolveStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The terminal went away: the detached services would not get its SIGHUP, so stop them.
  process.on('SIGHUP', onSignal);

  try {
    say('bringing up infrastructure (Kafka, MongoDB-wire store, PostgreSQL)...');
    infra = await infraUp({ owner: 'cli', log: say });
    for (const runtime of infra.components) say(describeComponent(runtime));
    // The local broker is shared with test runs; a namespace of its own keeps their events out of this platform
    // (and this platform's out of them). KAFKA_TOPIC_NAMESPACE overrides it; set it empty for the bare names.
    // A developer who changes PostgreSQL by hand should see the drift within a minute, not the production hour.
    // Provisioning commands exactly the connectors started here (grants on any other connector are left alone).
    const connectorIds = LOCAL_CONNECTORS.filter((connector) => PLATFORM_SERVICES.some((service) => service.name === connector.service)).map((c) => c.id);
    const env: NodeJS.ProcessEnv = {
      KAFKA_TOPIC_NAMESPACE: LOCAL_NAMESPACE,
      PROVISIONING_RECONCILE_EVERY: 'PT1M',
      PROVISIONING_CONNECTOR_IDS: connectorIds.join(','),
      ...process.env,
    };
    exportEndpoints(infra.components, env);
    if (!env['AUDIT_SIGNING_KEY_FILE']) {
      const key = ensureLocalAuditKey(ROOT);
      env['AUDIT_SIGNING_KEY_FILE'] = key.file;
      say(`audit checkpoint signing key: ${key.file}${key.created ? ' (created)' : ''}; its public key: GET /v1/audit/log/key`);
    }
    // Only the connectors that issue credentials get the sealing key and the issuer's key directory (docs/adr/0026).
    const credentialEnv = localCredentialEnv(ROOT, env);
    if (env['KAFKA_TOPIC_NAMESPACE']) say(`Kafka namespace: ${env['KAFKA_TOPIC_NAMESPACE']} (topics ${env['KAFKA_TOPIC_NAMESPACE']}.iga.*)`);
    // a broker with ACLs (GRANTLINE_KAFKA_SECURITY=sasl, docs/adr/0017): the namespace provisioned, each service its own principal
    const kafkaAccess = await kafkaNamespaceAccess({ env, ...(env['KAFKA_TOPIC_NAMESPACE'] ? { namespace: env['KAFKA_TOPIC_NAMESPACE'] } : {}) });
    if (kafkaAccess)
      say(`Kafka: SASL/SCRAM with ACLs from the catalogue; each service runs as its own principal (passwords in ${env['GRANTLINE_KAFKA_CREDENTIALS'] ?? ''})`);
    const infraReady = Date.now();

    if (!stopping) {
      PLATFORM_SERVICES.forEach((service, index) =>
        services.push(
          startService(service, index, {
            ...gatewayUpstreamEnv(),
            ...env,
            ...(ISSUES_CREDENTIALS.has(service.name) ? credentialEnv : {}),
            ...(service.kafka === false ? {} : kafkaAccess?.envOf(service.name)),
          }),
        ),
      );
      for (const running of services) {
        void running.exited.then((code) => {
          if (stopping) return;
          say(`${running.service.name} exited unexpectedly (code ${String(code)}); stopping everything`);
          exitCode = 1;
          onSignal('SIGTERM');
        });
      }
      await Promise.race([waitUntilReady(services, Date.now() + READY_TIMEOUT_MS, () => stopping), stopRequested]);
    }
    if (!stopping) {
      const seconds = (ms: number): string => (ms / 1000).toFixed(1);
      say(
        `all ${services.length} services ready in ${seconds(Date.now() - started)} s (infrastructure ${seconds(infraReady - started)} s, services ${seconds(Date.now() - infraReady)} s)\n\n${table(services)}\n`,
      );
      if ((env['AUTH_MODE'] ?? (env['OIDC_ISSUER'] ? 'oidc' : 'dev')) === 'dev') {
        say(
          'auth: the local dev issuer (loopback only; tokens any local user can mint). Mint one with roles:\n' +
            '  bash scripts/grantline run tools/dev-token/mint.ts --sub alice                                  (a member)\n' +
            '  bash scripts/grantline run tools/dev-token/mint.ts --sub hr-feed --workload --role identity-source\n' +
            '  set OIDC_ISSUER and OIDC_JWKS_URL to use your identity provider instead',
        );
      }
      const gateway = PLATFORM_SERVICES.find((service) => service.name === 'gateway');
      if (gateway) say(`one origin for every API: http://127.0.0.1:${gateway.port} (OpenAPI: /docs and /openapi.json; the event log: /asyncapi.json)`);
      say('press Ctrl-C to stop');
      await stopRequested;
    }
  } catch (error) {
    say(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
    stopping = true;
  }
  await stopServices(services);
  await stopInfra(infra);
  say(`stopped${exitCode === 0 ? '' : ' (after a failure)'}`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`grantline start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
