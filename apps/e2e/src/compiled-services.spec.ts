import { compiledLaunch, e2eBuildMode, imageStartOf, readImageStart } from './compiled-services';
import { REPO_ROOT } from './platform.fixture';

describe('the compiled services are started as deploy/Dockerfile starts them', () => {
  const image = readImageStart(REPO_ROOT);

  it('reads the runtime stage: production mode, the compiled entrypoint, no TypeScript at run time', () => {
    expect(image.env['NODE_ENV']).toBe('production');
    expect(image.argv).toEqual(['node', '--enable-source-maps', 'apps/$APP/src/main.js']);
    expect(image.argv.join(' ')).not.toContain('@swc-node/register');
  });

  it("launches a service with the image's environment under the harness's, authenticating as production demands", () => {
    const harness = { PORT: '0', HOST: '127.0.0.1', AUTH_MODE: 'dev', DEV_ISSUER_DIR: '/run/dev-issuer', NODE_ENV: 'test' };
    const launch = compiledLaunch('intake', '/build', image, harness);
    expect(launch).toEqual({
      args: ['--enable-source-maps', 'apps/intake/src/main.js'],
      cwd: '/build',
      env: expect.objectContaining({
        NODE_ENV: 'production',
        APP: 'intake',
        PORT: '0',
        HOST: '127.0.0.1',
        OIDC_ISSUER: 'urn:grantline:dev-issuer',
        OIDC_JWKS_FILE: '/run/dev-issuer/jwks.json',
      }),
    });
    expect(launch.env['AUTH_MODE']).toBeUndefined();
  });

  it('keeps a test-only setting production refuses out of production mode (the scheduler test clock, dev issuer keys)', () => {
    const launch = compiledLaunch('scheduler', '/build', image, { DEV_ISSUER_DIR: '/d', SCHEDULER_TEST_MODE: 'true', NODE_ENV: 'test' });
    expect(launch.env['NODE_ENV']).toBeUndefined();
    expect(compiledLaunch('scheduler', '/build', image, { DEV_ISSUER_DIR: '/d', NODE_ENV: 'test' }).env['NODE_ENV']).toBe('production');
    expect(
      compiledLaunch('connector-credentials', '/build', image, { DEV_ISSUER_DIR: '/d', CREDENTIAL_DEV_KEYS_DIR: '/keys' }).env['NODE_ENV'],
    ).toBeUndefined();
  });

  it('refuses a Dockerfile it cannot run as the image would', () => {
    expect(() => imageStartOf('FROM node:24\nENV NODE_ENV=production\n')).toThrow(/no CMD in exec form/);
    expect(() => imageStartOf('FROM node:24\nCMD ["sh", "-c", "exec node a.js && rm -rf /"]\n')).toThrow(/not a plain command/);
    expect(() => imageStartOf('FROM node:24\nENV NODE_ENV production\nCMD ["node", "a.js"]\n')).toThrow(/KEY=VALUE/);
    expect(() => e2eBuildMode({ GRANTLINE_E2E_BUILD: 'docker' })).toThrow(/GRANTLINE_E2E_BUILD=docker/);
  });
});
