import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraPaths } from './infra.config';
import type { InfraPaths } from './infra.config';
import { dockerEngineAvailable, removeContainer, startDockerComponent } from './docker.provider';
import { startLocalFerretdb } from './ferretdb-local.provider';
import { mongoPing, mongoServerVersion, pgQuery, pgServerVersion } from './health';
import { withInfraLock } from './infra-lock';
import { endpointEnv, infraComponents, infraStateSchema } from './infra.types';
import type { ComponentHealth, ComponentRuntime, InfraComponent, InfraLog, InfraOwner, InfraState } from './infra.types';
import { ensureLocalKafkaPrincipals, kafkaLogSaysStarted, startLocalKafka } from './kafka-local.provider';
import {
  LDAP_ADMIN_DN,
  LDAP_ENV,
  LDAP_GROUPS_DN,
  LDAP_PEOPLE_DN,
  LDAP_SUFFIX,
  ldapBindOk,
  ldapHome,
  readLdapAdminPassword,
  startLocalLdap,
} from './ldap-local.provider';
import { KAFKA_ADMIN_USER, KAFKA_CREDENTIALS_ENV, KAFKA_SECURITY_ENV, kafkaSecurity, readKafkaCredentials } from './kafka-security';
import { postgresDataDir, startLocalPostgres } from './postgres-local.provider';
import { SCIM_TOKEN_ENV, readScimToken, scimTargetAnswers, scimTargetHome, startLocalScimTarget } from './scim-target.provider';
import { isOurProcess, isPortOpen, stopProcess } from './process.util';

/** GRANTLINE_INFRA: `none` skips infrastructure, `local`/`docker` force a provider, `auto` (default) chooses. */
export type InfraSelection = 'auto' | 'local' | 'docker' | 'none';

export function infraSelection(env: NodeJS.ProcessEnv = process.env): InfraSelection {
  const raw = env['GRANTLINE_INFRA'] ?? 'auto';
  if (raw === 'auto' || raw === 'local' || raw === 'docker' || raw === 'none') return raw;
  throw new Error(`GRANTLINE_INFRA=${raw} is not one of auto, local, docker, none`);
}

export interface InfraUpOptions {
  owner: InfraOwner;
  log?: InfraLog;
  env?: NodeJS.ProcessEnv;
  paths?: InfraPaths;
}

export interface InfraUpResult {
  components: ComponentRuntime[];
  started: InfraComponent[];
  reused: InfraComponent[];
}

const silent: InfraLog = () => undefined;

export function readInfraState(paths: InfraPaths = infraPaths()): InfraState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  const parsed = infraStateSchema.safeParse(JSON.parse(readFileSync(paths.stateFile, 'utf8')));
  if (!parsed.success) throw new Error(`${paths.stateFile} is not a valid infra state: ${parsed.error.message}`);
  return parsed.data;
}

function writeInfraState(paths: InfraPaths, state: InfraState): void {
  mkdirSync(paths.data, { recursive: true });
  writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function hostPort(url: string): string {
  return url.includes('://') ? new URL(url).host : (url.split(',')[0] ?? url);
}

/** One line per component, the format `infra up` and jest's global setup print. */
export function describeComponent(runtime: ComponentRuntime): string {
  const where: Record<ComponentRuntime['mode'], string> = {
    env: `from ${endpointEnv[runtime.component]}`,
    docker: 'docker',
    local: { kafka: 'local KRaft', mongo: 'local, SQLite backend', postgres: 'local', ldap: 'local, Debian packages', scim: 'local process, in memory' }[
      runtime.component
    ],
  };
  return `${runtime.component}: ${runtime.version} (${where[runtime.mode]}) at ${runtime.address}`;
}

/**
 * Copies the endpoints into env (KAFKA_BROKERS, MONGO_URL, PG_URL) for services and spec workers. A SASL broker
 * (ADR 0017) adds the security mode, the credentials file's path and the bootstrap admin's login
 * (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD): every bus a spec builds authenticates as the admin without naming it,
 * and a platform's services get their own principals from the file (`kafkaNamespaceAccess`).
 */
export function exportEndpoints(components: readonly ComponentRuntime[], env: NodeJS.ProcessEnv = process.env): void {
  for (const runtime of components) env[endpointEnv[runtime.component]] = runtime.url;
  const kafka = components.find((runtime) => runtime.component === 'kafka');
  if (kafka?.security === 'sasl' && kafka.credentialsFile !== undefined) {
    env[KAFKA_SECURITY_ENV] = 'sasl';
    env[KAFKA_CREDENTIALS_ENV] = kafka.credentialsFile;
    env['KAFKA_SASL_USERNAME'] = KAFKA_ADMIN_USER;
    env['KAFKA_SASL_PASSWORD'] = readKafkaCredentials(kafka.credentialsFile).adminPassword;
  }
  const ldap = components.find((runtime) => runtime.component === 'ldap');
  if (ldap?.mode === 'local' && ldap.credentialsFile !== undefined) {
    // the harness's own directory: its admin and branches (an LDAP_URL from env comes with the caller's own settings)
    env[LDAP_ENV.bindDn] = LDAP_ADMIN_DN;
    env[LDAP_ENV.bindPassword] = readLdapAdminPassword(ldap.credentialsFile);
    env[LDAP_ENV.groupsBaseDn] = LDAP_GROUPS_DN;
    env[LDAP_ENV.peopleBaseDn] = LDAP_PEOPLE_DN;
  }
  const scim = components.find((runtime) => runtime.component === 'scim');
  if (scim?.credentialsFile !== undefined) env[SCIM_TOKEN_ENV] = readScimToken(scim.credentialsFile);
}

/** The bind a health check of the directory uses: the harness's admin (and its suffix), or the caller's LDAP_BIND_* (anonymous without). */
function ldapHealthBind(runtime: ComponentRuntime): { dn?: string; password?: string; base?: string } {
  if (runtime.credentialsFile !== undefined) return { dn: LDAP_ADMIN_DN, password: readLdapAdminPassword(runtime.credentialsFile), base: LDAP_SUFFIX };
  const dn = process.env[LDAP_ENV.bindDn];
  const password = process.env[LDAP_ENV.bindPassword];
  return dn !== undefined && password !== undefined ? { dn, password } : {};
}

export async function checkHealth(runtime: ComponentRuntime): Promise<ComponentHealth> {
  const { component } = runtime;
  try {
    if (runtime.mode === 'local' && runtime.pid !== undefined && !isOurProcess(runtime.pid, runtime.marker)) {
      return { component, healthy: false, detail: `process ${runtime.pid} is not running` };
    }
    switch (component) {
      case 'kafka': {
        const [host = '127.0.0.1', port = '9092'] = hostPort(runtime.url).split(':');
        if (!(await isPortOpen(host, Number(port)))) return { component, healthy: false, detail: `nothing listens on ${host}:${port}` };
        if (runtime.mode === 'local' && runtime.logFile !== undefined && !kafkaLogSaysStarted(runtime.logFile)) {
          return { component, healthy: false, detail: 'port open but the broker has not logged that it started' };
        }
        return { component, healthy: true, detail: 'port open' + (runtime.mode === 'local' ? ', broker log says started' : '') };
      }
      case 'mongo':
        return (await mongoPing(runtime.url)) ? { component, healthy: true, detail: 'ping ok' } : { component, healthy: false, detail: 'ping failed' };
      case 'postgres': {
        const rows = await pgQuery<{ ok: number }>(runtime.url, 'SELECT 1 AS ok');
        return { component, healthy: rows[0]?.ok === 1, detail: 'SELECT 1 ok' };
      }
      case 'ldap': {
        const bind = ldapHealthBind(runtime);
        await ldapBindOk(runtime.url, bind);
        return { component, healthy: true, detail: bind.dn === undefined ? 'anonymous bind and root DSE read ok' : 'bind and base search ok' };
      }
      case 'scim': {
        const token = runtime.credentialsFile !== undefined ? readScimToken(runtime.credentialsFile) : process.env[SCIM_TOKEN_ENV];
        const answers = await scimTargetAnswers(runtime.url, token);
        return { component, healthy: answers, detail: answers ? 'GET /ServiceProviderConfig ok' : 'GET /ServiceProviderConfig failed' };
      }
    }
  } catch (err) {
    return { component, healthy: false, detail: (err as Error).message };
  }
}

const RECORDED_HEALTH_WAIT_MS = 60_000;

async function healthWithin(runtime: ComponentRuntime, timeoutMs: number): Promise<ComponentHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await checkHealth(runtime);
    if (health.healthy || Date.now() > deadline) return health;
    if (runtime.mode === 'local' && runtime.pid !== undefined && !isOurProcess(runtime.pid, runtime.marker)) return health;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function fromEnv(component: InfraComponent, url: string): Promise<ComponentRuntime> {
  let version = 'Apache Kafka (version not probed)';
  const runtime: ComponentRuntime = { component, mode: 'env', version, address: hostPort(url), url, startedAt: new Date().toISOString() };
  const health = await healthWithin(runtime, 15_000);
  if (!health.healthy) throw new Error(`${endpointEnv[component]}=${runtime.address} is set but not usable: ${health.detail}`);
  if (component === 'mongo') version = await mongoServerVersion(url);
  if (component === 'postgres') version = await pgServerVersion(url);
  if (component === 'ldap') version = 'LDAP server (version not probed)';
  if (component === 'scim') version = 'SCIM 2.0 service provider (version not probed)';
  return { ...runtime, version };
}

async function startComponent(component: InfraComponent, selection: InfraSelection, paths: InfraPaths, log: InfraLog): Promise<ComponentRuntime> {
  // OpenLDAP comes from Debian packages with either provider (the architecture's rule for connector targets)
  if (component === 'ldap') return startLocalLdap(paths, log);
  // the SCIM target is a Node process of this repository (tools/scim-target) with either provider
  if (component === 'scim') return startLocalScimTarget(paths, log);
  // The Docker provider cannot bootstrap the SCRAM users of a SASL broker yet (ADR 0017): the broker then runs as a
  // local process wherever Docker would have been chosen, and only an explicit GRANTLINE_INFRA=docker is refused.
  const saslKafka = component === 'kafka' && kafkaSecurity() === 'sasl';
  if (saslKafka && selection === 'docker') {
    throw new Error(`${KAFKA_SECURITY_ENV}=sasl (the default) is not supported with the Docker provider yet: use GRANTLINE_INFRA=local or auto`);
  }
  const useDocker = !saslKafka && (selection === 'docker' || (selection === 'auto' && (await dockerEngineAvailable())));
  if (useDocker) return startDockerComponent(component, log);
  switch (component) {
    case 'kafka':
      return startLocalKafka(paths, log);
    case 'mongo':
      return startLocalFerretdb(paths, log);
    case 'postgres':
      return startLocalPostgres(paths, log);
  }
}

/**
 * Brings every component up, or reuses it: explicit env first, then what a previous `up`
 * left running (recorded in .grantline/infra.json), then Docker, then local processes.
 */
export async function infraUp(options: InfraUpOptions): Promise<InfraUpResult> {
  const paths = options.paths ?? infraPaths();
  const log = options.log ?? silent;
  const env = options.env ?? process.env;
  const selection = infraSelection(env);
  if (selection === 'none') return { components: [], started: [], reused: [] };

  return withInfraLock(paths, log, async () => {
    const previous = readInfraState(paths);
    const state: InfraState = {
      owner: options.owner === 'cli' || previous?.owner === 'cli' ? 'cli' : 'jest',
      updatedAt: new Date().toISOString(),
      components: {},
    };
    const started: InfraComponent[] = [];
    const reused: InfraComponent[] = [];
    const failures: string[] = [];
    const resolved: ComponentRuntime[] = [];

    const outcomes = await Promise.allSettled(
      infraComponents.map(async (component): Promise<ComponentRuntime> => {
        const explicit = env[endpointEnv[component]];
        const recorded = previous?.components[component];
        if (explicit !== undefined && explicit !== '' && !(recorded !== undefined && recorded.url === explicit)) {
          reused.push(component);
          return fromEnv(component, explicit);
        }
        if (recorded !== undefined) {
          const running = recorded.mode !== 'local' || (recorded.pid !== undefined && isOurProcess(recorded.pid, recorded.marker));
          if (running && component === 'kafka' && (recorded.security ?? 'plaintext') !== kafkaSecurity(env)) {
            // never restarted behind the back of whoever uses it: the switch takes effect at the next start
            throw new Error(
              `the running broker at ${recorded.address} is ${recorded.security ?? 'plaintext'} but ${KAFKA_SECURITY_ENV}=${kafkaSecurity(env)}; ` +
                'stop it with `npm run infra:down` (when nobody else uses it) and start again',
            );
          }
          if (running) {
            // a loaded machine answers slowly: give a server we know is running time before judging it
            const health = await healthWithin(recorded, RECORDED_HEALTH_WAIT_MS);
            if (health.healthy) {
              if (recorded.mode === 'local') await ensureLocalKafkaPrincipals(recorded, paths, log);
              reused.push(component);
              return recorded;
            }
            if (recorded.mode !== 'docker') {
              throw new Error(
                `${component}: the ${recorded.mode} instance at ${recorded.address} is not healthy (${health.detail}); check ${recorded.logFile ?? 'its logs'} or run \`npm run infra:down\``,
              );
            }
            log(`${component}: recorded container is not healthy (${health.detail}); starting a new one`);
            await stopRuntime(recorded);
          }
        }
        const runtime = await startComponent(component, selection, paths, log);
        started.push(component);
        return runtime;
      }),
    );
    outcomes.forEach((outcome, index) => {
      const component = infraComponents[index] as InfraComponent;
      if (outcome.status === 'fulfilled') {
        resolved.push(outcome.value);
        // infra.json records what the harness runs; an env endpoint for this caller must not
        // hide a recorded server from `down` (another shell may still use it)
        const kept = outcome.value.mode === 'env' ? previous?.components[component] : outcome.value;
        if (kept !== undefined) state.components[component] = kept;
        return;
      }
      failures.push(`${component}: ${(outcome.reason as Error).message}`);
      // a server that is still running must stay recorded, or `down` could never stop it
      const recorded = previous?.components[component];
      if (recorded !== undefined && (recorded.mode !== 'local' || (recorded.pid !== undefined && isOurProcess(recorded.pid, recorded.marker)))) {
        state.components[component] = recorded;
      }
    });
    // record what did start, so `down` can stop it even when another component failed
    writeInfraState(paths, state);
    if (failures.length > 0) throw new Error(`infrastructure did not come up:\n${failures.join('\n')}`);
    return {
      components: resolved,
      started,
      reused,
    };
  });
}

async function stopRuntime(runtime: ComponentRuntime): Promise<string> {
  if (runtime.mode === 'docker' && runtime.containerId !== undefined) {
    await removeContainer(runtime.containerId);
    return 'container removed';
  }
  if (runtime.mode === 'local' && runtime.pid !== undefined) {
    if (!isOurProcess(runtime.pid, runtime.marker)) return 'was not running';
    // postgres: SIGTERM is "smart" shutdown and waits for every client; SIGINT is its graceful fast shutdown
    const signal = runtime.component === 'postgres' ? 'SIGINT' : 'SIGTERM';
    return stopProcess(runtime.pid, { signal, graceMs: 30_000 });
  }
  return 'left alone (not started by the harness)';
}

export interface InfraDownOptions {
  log?: InfraLog;
  paths?: InfraPaths;
  /** Also delete the data under .grantline (topics, databases); downloads in .cache stay. */
  wipe?: boolean;
  /** Checked under the lock: a reason to leave everything running, or undefined to stop. */
  keepRunningIf?: (state: InfraState | undefined) => string | undefined;
}

/** Stops everything `up` started (local processes, containers); endpoints from env are left alone. */
export async function infraDown(options: InfraDownOptions = {}): Promise<void> {
  const paths = options.paths ?? infraPaths();
  const log = options.log ?? silent;
  await withInfraLock(paths, log, async () => {
    const state = readInfraState(paths);
    const keep = options.keepRunningIf?.(state);
    if (keep !== undefined) {
      log(`infra: left running (${keep})`);
      return;
    }
    const runtimes = infraComponents.map((c) => state?.components[c]).filter((c): c is ComponentRuntime => c !== undefined);
    if (runtimes.length === 0) log('infra: nothing recorded as running');
    const results = await Promise.all(runtimes.map(async (runtime) => [runtime, await stopRuntime(runtime)] as const));
    for (const [runtime, result] of results) log(`${runtime.component}: ${result}`);
    rmSync(paths.stateFile, { force: true });
    if (options.wipe === true) {
      for (const dir of ['kafka', 'ferretdb', 'postgres', 'postgres.password', 'logs']) {
        rmSync(join(paths.data, dir), { recursive: true, force: true });
      }
      rmSync(ldapHome(paths), { recursive: true, force: true });
      rmSync(scimTargetHome(paths), { recursive: true, force: true });
      rmSync(postgresDataDir(paths, true), { recursive: true, force: true });
      rmSync(`${postgresDataDir(paths, true)}.owner`, { force: true });
      log('infra: data under .grantline wiped');
    }
  });
}

export async function infraStatus(paths: InfraPaths = infraPaths()): Promise<{ state: InfraState | undefined; health: ComponentHealth[] }> {
  const state = readInfraState(paths);
  const health = await Promise.all(
    infraComponents.map(async (component): Promise<ComponentHealth> => {
      const runtime = state?.components[component];
      return runtime === undefined ? { component, healthy: false, detail: 'not running (run `npm run infra:up`)' } : checkHealth(runtime);
    }),
  );
  return { state, health };
}
