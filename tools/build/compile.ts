import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { transform } from '@swc/core';
import type { Options } from '@swc/core';

/**
 * Compiles every service (each `apps/<name>/src/main.ts`) and the tools the image ships to CommonJS with swc, the
 * compiler `npm start` and jest already use, so the compiled services behave as the ones under test: legacy
 * decorators with emitted metadata (NestJS injection reads `design:paramtypes`), tsconfig paths rewritten to
 * relative requires. Only what an entry reaches is compiled, and every package it requires must be a production
 * dependency: the image installs nothing else (`npm ci --omit=dev`), so a service that needs a dev dependency fails
 * the build here instead of the container at start.
 *
 * The output mirrors the repository (`<out>/apps/intake/src/main.js`, `<out>/libs/...`) with `catalog/` and
 * `policies/` beside them, because the services find their files from their own location (`__dirname/../../../../
 * catalog`) or from the working directory (`policies/`): run them with the output directory as working directory,
 * as the image does with its copy of it in /app.
 */

/** Files the services read at run time, copied beside the compiled code. */
export const RUNTIME_DIRECTORIES = ['catalog', 'policies'] as const;

/** Tools that ship in the image beside the services (the dev OIDC issuer and the Kafka set-up step docker-compose.yml and the chart run). */
export const SHIPPED_TOOLS = ['tools/dev-token/mint.ts', 'tools/dev-token/serve.ts', 'tools/kafka-setup/main.ts'] as const;

export const BUILD_MANIFEST = 'build-manifest.json';

export interface BuildManifest {
  /** The services, each started as `node apps/<name>/src/main.js` from the output directory. */
  readonly apps: readonly string[];
  readonly tools: readonly string[];
  readonly files: number;
  /** Every package the compiled code requires, with the first file that does. */
  readonly packages: Readonly<Record<string, string>>;
}

export interface BuildResult extends BuildManifest {
  readonly outDir: string;
  readonly ms: number;
}

export class BuildError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`build failed:\n  ${problems.join('\n  ')}`);
    this.name = 'BuildError';
  }
}

/** The services: every app with a `src/main.ts` (the e2e project has none). */
export function discoverApps(root: string): string[] {
  return readdirSync(join(root, 'apps'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'apps', entry.name, 'src', 'main.ts')))
    .map((entry) => entry.name)
    .sort();
}

function swcOptions(root: string, file: string): Options {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return {
    filename: file,
    sourceMaps: true,
    sourceFileName: relative(dirname(file), file),
    swcrc: false,
    configFile: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
      baseUrl: root,
      paths: compilerOptions.paths,
    },
    module: { type: 'commonjs' },
  };
}

const BUILTINS = new Set(builtinModules);
const REQUIRE = /\brequire\("([^"]+)"\)/g;

const packageOf = (specifier: string): string => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
};

/** The TypeScript file a relative require of `from` points at, or undefined. */
function resolveSource(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

/**
 * Compiles the entries and everything they require into `outDir` (replaced whole, only once the new build is
 * complete, so a service started from the previous one keeps its files until the swap).
 */
export async function build(root: string, outDir: string = join(root, 'dist'), tools: readonly string[] = SHIPPED_TOOLS): Promise<BuildResult> {
  const started = Date.now();
  const { dependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const apps = discoverApps(root);
  const entries = [...apps.map((app) => join(root, 'apps', app, 'src', 'main.ts')), ...tools.map((tool) => join(root, tool))];
  // beside the output, under the ignored .cache/ (same file system, so the swap is a rename)
  const scratch = join(dirname(outDir), '.cache');
  const staging = join(scratch, `build-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const problems: string[] = [];
  const packages = new Map<string, string>();
  const seen = new Set<string>(entries);
  const queue = [...entries];
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      await Promise.all(
        batch.map(async (file) => {
          const source = relative(root, file);
          const target = join(staging, source.replace(/\.ts$/, '.js'));
          mkdirSync(dirname(target), { recursive: true });
          if (!file.endsWith('.ts')) {
            cpSync(file, target);
            return;
          }
          const output = await transform(readFileSync(file, 'utf8'), swcOptions(root, file));
          const mapName = `${target.split(sep).pop() ?? 'main.js'}.map`;
          writeFileSync(target, `${output.code}\n//# sourceMappingURL=${mapName}\n`);
          if (output.map !== undefined) writeFileSync(`${target}.map`, output.map);
          for (const [, specifier = ''] of output.code.matchAll(REQUIRE)) {
            if (specifier.startsWith('.')) {
              const required = resolveSource(file, specifier);
              if (required === undefined) problems.push(`${source}: cannot resolve ${specifier}`);
              else if (!seen.has(required)) {
                seen.add(required);
                queue.push(required);
              }
            } else if (!BUILTINS.has(specifier) && !specifier.startsWith('node:')) {
              const name = packageOf(specifier);
              if (!packages.has(name)) packages.set(name, source);
              if (dependencies[name] === undefined) {
                problems.push(`${source} requires ${name}, which is not a production dependency (the image installs only those)`);
              }
            }
          }
        }),
      );
    }
    if (problems.length > 0) throw new BuildError([...new Set(problems)]);
    for (const directory of RUNTIME_DIRECTORIES) cpSync(join(root, directory), join(staging, directory), { recursive: true });
    const manifest: BuildManifest = {
      apps,
      tools: tools.map((tool) => tool.replace(/\.ts$/, '.js')),
      files: seen.size,
      packages: Object.fromEntries([...packages].sort(([a], [b]) => a.localeCompare(b))),
    };
    writeFileSync(join(staging, BUILD_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const previous = join(scratch, `build-previous-${process.pid}`);
    if (existsSync(outDir)) renameSync(outDir, previous);
    renameSync(staging, outDir);
    rmSync(previous, { recursive: true, force: true });
    return { ...manifest, outDir, ms: Date.now() - started };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
