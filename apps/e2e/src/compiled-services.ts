// GRANTLINE_E2E_BUILD=dist: a platform's services run compiled, exactly as the image starts them. The entrypoint and
// the image's environment are read from deploy/Dockerfile's runtime stage (its ENV lines and its CMD), so the run
// cannot drift from the image; the code is a fresh `npm run build` of this checkout (tools/build) laid out as the
// image's /app, one per jest worker, so no run starts from a stale or half-replaced build.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_ISSUER, readDevIssuerJwks } from '@grantline/http-edge';

export const E2E_BUILD_ENV = 'GRANTLINE_E2E_BUILD';

export type E2eBuildMode = 'source' | 'dist';

/** `source` (the default: TypeScript through @swc-node/register, as `npm start`) or `dist` (the compiled build). */
export function e2eBuildMode(env: NodeJS.ProcessEnv = process.env): E2eBuildMode {
  const raw = (env[E2E_BUILD_ENV] ?? '').trim();
  if (raw === '' || raw === 'source') return 'source';
  if (raw === 'dist') return 'dist';
  throw new Error(`${E2E_BUILD_ENV}=${raw}: expected "dist" (the compiled services, as the image runs them) or "source" (the default)`);
}

/** How the image's runtime stage starts a service: its environment and its command, `$APP` still in them. */
export interface ImageStart {
  readonly env: Readonly<Record<string, string>>;
  /** The argv of the CMD once the shell's `exec` is resolved, e.g. `node --enable-source-maps apps/$APP/src/main.js`. */
  readonly argv: readonly string[];
}

/**
 * Reads the last stage of a Dockerfile: `ENV KEY=VALUE ...` lines and a `CMD` in exec form, either the command itself
 * or `["sh", "-c", "exec <command>"]` (a command word with quotes or shell syntax is refused: the harness could not
 * run it as the shell would).
 */
export function imageStartOf(dockerfile: string): ImageStart {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim());
  const lastStage = lines.map((line) => /^FROM\s/i.test(line)).lastIndexOf(true);
  if (lastStage < 0) throw new Error('the Dockerfile has no FROM');
  const env: Record<string, string> = {};
  let cmd: unknown;
  for (const line of lines.slice(lastStage + 1)) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    if (/^ENV$/i.test(instruction)) {
      for (const pair of rest) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new Error(`ENV ${rest.join(' ')}: only the KEY=VALUE form is read`);
        env[pair.slice(0, at)] = pair.slice(at + 1);
      }
    } else if (/^CMD$/i.test(instruction)) {
      cmd = JSON.parse(line.slice(instruction.length).trim());
    }
  }
  if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((word) => typeof word === 'string')) {
    throw new Error('the runtime stage has no CMD in exec form (["node", ...] or ["sh", "-c", "exec node ..."])');
  }
  const words = cmd as string[];
  const command = words[0] === 'sh' && words[1] === '-c' && words.length === 3 ? (words[2] ?? '').replace(/^exec\s+/, '').split(/\s+/) : words;
  if (command.some((word) => /["'`;&|<>(){}]/.test(word))) throw new Error(`CMD ${JSON.stringify(cmd)}: not a plain command the harness can run`);
  return { env, argv: command };
}

const substituteApp = (text: string, app: string): string => text.replace(/\$\{APP\}|\$APP\b/g, app);

export interface ServiceLaunch {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Test-only settings production refuses (the scheduler's test clock, the credential issuer's generated dev keys): a
 * service given one runs without NODE_ENV=production (see the README).
 */
const PRODUCTION_REFUSES: Readonly<Record<string, (value: string) => boolean>> = {
  SCHEDULER_TEST_MODE: (value) => value === 'true',
  CREDENTIAL_DEV_KEYS_DIR: (value) => value.trim() !== '',
};

/**
 * The compiled launch of one service: the image's command and environment, then the harness's settings on top (as a
 * deployment's environment overrides the image's: PORT=0 and HOST=127.0.0.1 so the kernel picks a loopback port).
 * Authentication is what production demands (OIDC_ISSUER + OIDC_JWKS_FILE, the run's dev issuer's public keys),
 * never AUTH_MODE=dev, which production refuses.
 */
export function compiledLaunch(app: string, buildDir: string, image: ImageStart, serviceEnv: NodeJS.ProcessEnv): ServiceLaunch {
  const devIssuerDir = serviceEnv['DEV_ISSUER_DIR'];
  if (devIssuerDir === undefined) throw new Error(`${app}: DEV_ISSUER_DIR is not set (the run's dev issuer)`);
  const [program, ...args] = image.argv.map((word) => substituteApp(word, app));
  if (program !== 'node') throw new Error(`the image starts ${String(program)}, not node: the harness runs node only`);
  const imageEnv = Object.fromEntries(Object.entries(image.env).map(([key, value]) => [key, substituteApp(value, app)]));
  // jest's own NODE_ENV=test is the runner's, not a setting of the deployment: the image's production mode stands
  const { AUTH_MODE: _devAuth, NODE_ENV: _runnerMode, ...harness } = serviceEnv;
  const env: NodeJS.ProcessEnv = { ...imageEnv, APP: app, ...harness, OIDC_ISSUER: DEV_ISSUER, OIDC_JWKS_FILE: jwksFile(devIssuerDir) };
  if (Object.entries(PRODUCTION_REFUSES).some(([name, refused]) => refused(env[name] ?? ''))) delete env['NODE_ENV'];
  return { args, cwd: buildDir, env };
}

const jwksFile = (devIssuerDir: string): string => join(devIssuerDir, 'jwks.json');

/** The run's dev issuer's public keys where the compiled services' OIDC_JWKS_FILE points. */
export async function writeDevIssuerJwks(devIssuerDir: string): Promise<void> {
  writeFileSync(jwksFile(devIssuerDir), `${JSON.stringify(await readDevIssuerJwks(devIssuerDir))}\n`);
}

export function readImageStart(repoRoot: string): ImageStart {
  return imageStartOf(readFileSync(join(repoRoot, 'deploy/Dockerfile'), 'utf8'));
}

/** A worker killed by jest leaves its build behind: removed by the next one (directory name = the worker's pid). */
function removeBuildsOfGoneWorkers(builds: string): void {
  if (!existsSync(builds)) return;
  for (const entry of readdirSync(builds)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      process.kill(Number(entry), 0);
    } catch {
      rmSync(join(builds, entry), { recursive: true, force: true });
    }
  }
}

let build: Promise<string> | undefined;
let builtDir: string | undefined;
process.once('exit', () => {
  if (builtDir !== undefined) rmSync(builtDir, { recursive: true, force: true });
});

/** This worker's build of the checkout (`npm run build --out`), made once: the directory to run the services from. */
export function compiledBuild(repoRoot: string): Promise<string> {
  build ??= new Promise<string>((resolve, reject) => {
    const builds = join(repoRoot, '.grantline', 'e2e-build');
    removeBuildsOfGoneWorkers(builds);
    const out = join(builds, String(process.pid));
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/build/build.ts', '--out', out], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`npm run build failed (exit ${String(code)}):\n${output}`));
      builtDir = out;
      resolve(out);
    });
  });
  return build;
}

export interface CompiledServices {
  readonly buildDir: string;
  readonly image: ImageStart;
}

/**
 * Undefined in source mode. In dist mode: this worker's build, the image's start and the run's dev issuer keys
 * published where OIDC_JWKS_FILE points.
 */
export async function prepareCompiledServices(repoRoot: string, devIssuerDir: string): Promise<CompiledServices | undefined> {
  if (e2eBuildMode() === 'source') return undefined;
  const [buildDir] = await Promise.all([compiledBuild(repoRoot), writeDevIssuerJwks(devIssuerDir)]);
  return { buildDir, image: readImageStart(repoRoot) };
}

/** How to start one service: as `npm start` does (source), or as the image does (compiled). */
export function serviceLaunch(app: string, env: NodeJS.ProcessEnv, repoRoot: string, compiled: CompiledServices | undefined): ServiceLaunch {
  if (compiled === undefined) return { args: ['--no-warnings', '-r', '@swc-node/register', `apps/${app}/src/main.ts`], cwd: repoRoot, env };
  return compiledLaunch(app, compiled.buildDir, compiled.image, env);
}
