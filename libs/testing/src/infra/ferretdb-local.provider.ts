import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRETDB_MODULE, FERRETDB_VERSION, LOOPBACK, infraPorts } from './infra.config';
import type { InfraPaths } from './infra.config';
import type { ComponentRuntime, InfraLog } from './infra.types';
import { mongoPing } from './health';
import { reclaimPort, runChecked, spawnDetached, waitUntil } from './process.util';
import { requireGo } from './prerequisites';

const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  // never let a go.mod `toolchain` line download another Go toolchain behind our back
  GOTOOLCHAIN: 'local',
  // the build copy sits inside this git checkout; its VCS state is not FerretDB's
  GOFLAGS: '-mod=mod -buildvcs=false',
  CGO_ENABLED: '0',
});

export function ferretdbBinary(paths: InfraPaths): string {
  return join(paths.cache, 'ferretdb', FERRETDB_VERSION, 'ferretdb');
}

/**
 * Builds FerretDB from its module source once per version. tools/ferretdb/go.mod pins the
 * version (and go.sum its checksum); the build happens in a writable copy of the module
 * because FerretDB refuses to start unless build/version/version.txt (absent from module
 * zips) names its version.
 */
export async function ensureFerretdbBinary(paths: InfraPaths, log: InfraLog): Promise<string> {
  const binary = ferretdbBinary(paths);
  if (existsSync(binary)) return binary;
  await requireGo([1, 24]);
  const started = Date.now();
  log(`mongo: building FerretDB ${FERRETDB_VERSION} from Go module source (first run only, a few minutes)...`);
  const toolsDir = join(paths.root, 'tools/ferretdb');
  const download = await runChecked('downloading the FerretDB module', 'go', ['mod', 'download', '-json', FERRETDB_MODULE], {
    cwd: toolsDir,
    env: goEnv(),
    timeoutMs: 15 * 60_000,
  });
  const moduleDir = (JSON.parse(download.stdout) as { Dir?: string }).Dir;
  if (moduleDir === undefined) throw new Error(`go mod download did not report a directory for ${FERRETDB_MODULE}`);
  const src = join(paths.cache, 'ferretdb', FERRETDB_VERSION, 'src');
  rmSync(src, { recursive: true, force: true });
  cpSync(moduleDir, src, { recursive: true });
  chmodSync(join(src, 'build/version'), 0o755);
  writeFileSync(join(src, 'build/version/version.txt'), `${FERRETDB_VERSION}\n`);
  const staging = `${binary}.partial`;
  await runChecked('building FerretDB', 'go', ['build', '-trimpath', '-o', staging, './cmd/ferretdb'], {
    cwd: src,
    env: goEnv(),
    timeoutMs: 30 * 60_000,
  });
  renameSync(staging, binary);
  // the module cache keeps the source; the copy only existed to carry version.txt
  await runChecked('cleaning the FerretDB build copy', 'chmod', ['-R', 'u+w', src]);
  rmSync(src, { recursive: true, force: true });
  log(`mongo: FerretDB built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return binary;
}

export async function startLocalFerretdb(paths: InfraPaths, log: InfraLog): Promise<ComponentRuntime> {
  const binary = await ensureFerretdbBinary(paths, log);
  const port = infraPorts().mongo;
  const home = join(paths.data, 'ferretdb');
  const dataDir = join(home, 'data');
  const stateDir = join(home, 'state');
  await reclaimPort('mongo', LOOPBACK, port, {
    ownedPaths: [home],
    hint: 'stop it, set GRANTLINE_MONGO_PORT, or use it via MONGO_URL',
    log,
  });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(paths.logs, 'ferretdb.log');
  const { pid } = spawnDetached(
    binary,
    [
      `--listen-addr=${LOOPBACK}:${port}`,
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${stateDir}`,
      '--telemetry=disable',
      // no metrics/pprof listener: it would take a fixed port (8088) nobody asked for
      '--debug-addr=-',
      '--log-level=warn',
    ],
    logFile,
    { cwd: home },
  );
  const url = `mongodb://${LOOPBACK}:${port}/`;
  await waitUntil(`FerretDB at ${LOOPBACK}:${port}`, () => mongoPing(url), { timeoutMs: 60_000, pid, logFile });
  return {
    component: 'mongo',
    mode: 'local',
    version: `FerretDB ${FERRETDB_VERSION}`,
    address: `${LOOPBACK}:${port}`,
    url,
    pid,
    marker: binary,
    logFile,
    startedAt: new Date().toISOString(),
  };
}
