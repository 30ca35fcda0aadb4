import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BuildError, build, discoverApps } from './compile';

const ROOT = join(__dirname, '../..');

/** Every .js file under a directory. */
function javascriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('npm run build (tools/build)', () => {
  // inside the checkout, so the compiled code finds node_modules as it does in the image's /app
  const work = join(ROOT, '.cache', `build-spec-${process.pid}`);
  const out = join(work, 'dist');
  let result: Awaited<ReturnType<typeof build>>;

  beforeAll(async () => {
    result = await build(ROOT, out);
  }, 60_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('compiles every app with a src/main.ts, discovered, to apps/<app>/src/main.js', () => {
    const apps = discoverApps(ROOT);
    expect(apps).toEqual(expect.arrayContaining(['intake', 'policy', 'approval', 'provisioning', 'scheduler', 'audit', 'notifier', 'connector-postgres']));
    expect(apps).not.toContain('e2e');
    expect(result.apps).toEqual(apps);
    for (const app of apps) expect(readFileSync(join(out, 'apps', app, 'src', 'main.js'), 'utf8')).toContain('require(');
  });

  it('resolves every path alias to a relative require and emits decorator metadata for NestJS injection', () => {
    const files = javascriptFiles(out);
    expect(files.length).toBe(result.files);
    const aliased = files.filter((file) => /require\("@grantline\//.test(readFileSync(file, 'utf8')));
    expect(aliased).toEqual([]);
    expect(readFileSync(join(out, 'libs/service-kit/src/health/health.controller.js'), 'utf8')).toContain('"design:paramtypes"');
  });

  it('requires production dependencies only, and the compiled code loads with them', () => {
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(result.packages).filter((name) => dependencies[name] === undefined)).toEqual([]);
    const loaded = spawnSync(
      process.execPath,
      ['-e', `console.log(Object.keys(require(${JSON.stringify(join(out, 'libs/contracts/src/index.js'))})).length)`],
      { encoding: 'utf8' },
    );
    expect(loaded.stderr).toBe('');
    expect(Number(loaded.stdout.trim())).toBeGreaterThan(10);
  });

  it('lays catalog/ and policies/ beside the code, as the services look for them', () => {
    for (const file of ['catalog/entitlements.yaml', 'catalog/campaigns/mover.yaml', 'policies/bundle.yaml']) {
      expect(readFileSync(join(out, file), 'utf8')).toBe(readFileSync(join(ROOT, file), 'utf8'));
    }
  });

  it('fails, naming the file and the package, when a service needs a dev dependency (the image would not start)', async () => {
    const fake = mkdtempSync(join(tmpdir(), 'grantline-build-'));
    try {
      const write = (path: string, text: string): void => {
        mkdirSync(dirname(join(fake, path)), { recursive: true });
        writeFileSync(join(fake, path), text);
      };
      write('package.json', JSON.stringify({ dependencies: { zod: '4' }, devDependencies: { supertest: '7' } }));
      write('tsconfig.base.json', JSON.stringify({ compilerOptions: { paths: {} } }));
      write(
        'apps/web/src/main.ts',
        "import { z } from 'zod';\nimport request from 'supertest';\nimport { missing } from './missing';\nexport const all = [z, request, missing];\n",
      );
      mkdirSync(join(fake, 'catalog'));
      mkdirSync(join(fake, 'policies'));
      const failure = await build(fake, join(fake, 'dist'), []).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(BuildError);
      expect((failure as BuildError).problems).toEqual([
        'apps/web/src/main.ts requires supertest, which is not a production dependency (the image installs only those)',
        'apps/web/src/main.ts: cannot resolve ./missing',
      ]);
      expect(readdirSync(fake)).not.toContain('dist');
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
