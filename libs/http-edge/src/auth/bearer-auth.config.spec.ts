import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { DEFAULT_AUDIENCE, bearerAuthConfigFrom, devBearerAuth, jwtVerifierFor } from './bearer-auth.config';
import { DEFAULT_ROLE_MAPPING } from './roles';
import { DEV_ISSUER, DEV_ISSUER_KEY_FILE } from './dev-issuer.keys';
import { AuthenticationError } from './jwt-verifier';

const reasonOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof AuthenticationError ? error.reason : `unexpected ${String(error)}`),
  );

describe('bearerAuthConfigFrom', () => {
  it('defaults to the dev issuer, with the dev key directory resolved', () => {
    expect(bearerAuthConfigFrom({}, '/repo/.grantline/dev-issuer')).toEqual({
      ok: true,
      config: {
        mode: 'dev',
        issuer: DEV_ISSUER,
        audience: DEFAULT_AUDIENCE,
        devIssuerDir: '/repo/.grantline/dev-issuer',
        roles: { claim: 'roles', map: new Map() },
      },
    });
    expect(bearerAuthConfigFrom({ DEV_ISSUER_DIR: '/tmp/keys', OIDC_AUDIENCE: 'api' }, '/x')).toMatchObject({
      ok: true,
      config: { devIssuerDir: '/tmp/keys', audience: 'api' },
    });
  });

  it('switches to oidc when an issuer is configured or in production, and then needs its keys', () => {
    expect(bearerAuthConfigFrom({ OIDC_ISSUER: 'https://idp.test', OIDC_JWKS_URL: 'https://idp.test/jwks' }, '/x')).toMatchObject({
      ok: true,
      config: { mode: 'oidc', issuer: 'https://idp.test', jwksUrl: 'https://idp.test/jwks' },
    });
    expect(bearerAuthConfigFrom({ NODE_ENV: 'production' }, '/x')).toEqual({
      ok: false,
      problems: [
        { variable: 'OIDC_ISSUER', message: 'required when AUTH_MODE=oidc' },
        { variable: 'OIDC_JWKS_URL', message: 'OIDC_JWKS_URL or OIDC_JWKS_FILE is required when AUTH_MODE=oidc' },
      ],
    });
  });

  it('refuses dev auth in production and on any listen address but loopback, saying why', () => {
    expect(bearerAuthConfigFrom({ NODE_ENV: 'production', AUTH_MODE: 'dev' }, '/x')).toMatchObject({
      ok: false,
      problems: [{ variable: 'AUTH_MODE', message: expect.stringMatching(/NODE_ENV=production/) }],
    });
    expect(bearerAuthConfigFrom({ HOST: '0.0.0.0' }, '/x')).toMatchObject({
      ok: false,
      problems: [{ variable: 'HOST', message: expect.stringMatching(/loopback/) }],
    });
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost']) expect(bearerAuthConfigFrom({ HOST: host }, '/x')).toMatchObject({ ok: true });
    expect(bearerAuthConfigFrom({ HOST: '0.0.0.0', OIDC_ISSUER: 'https://idp.test', OIDC_JWKS_URL: 'https://idp.test/jwks' }, '/x')).toMatchObject({
      ok: true,
    });
  });

  it('reads the roles claim and the role map, refusing a map onto member or an unknown role', () => {
    const result = bearerAuthConfigFrom({ AUTH_ROLES_CLAIM: 'realm_access.roles', AUTH_ROLE_MAP: 'sec-team=security, hr-sync=identity-source' }, '/x');
    expect(result).toMatchObject({ ok: true, config: { roles: { claim: 'realm_access.roles' } } });
    if (result.ok)
      expect([...result.config.roles.map]).toEqual([
        ['sec-team', 'security'],
        ['hr-sync', 'identity-source'],
      ]);
    expect(bearerAuthConfigFrom({ AUTH_ROLE_MAP: 'everyone=member' }, '/x')).toMatchObject({ ok: false, problems: [{ variable: 'AUTH_ROLE_MAP' }] });
    expect(bearerAuthConfigFrom({ AUTH_ROLE_MAP: 'x=root' }, '/x')).toMatchObject({ ok: false, problems: [{ variable: 'AUTH_ROLE_MAP' }] });
  });
});

describe('jwtVerifierFor', () => {
  let dir: string;
  let privateKey: CryptoKey;
  let privateJwk: JWK;
  const token = (issuer: string, subject = 'carol'): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(DEFAULT_AUDIENCE)
      .setSubject(subject)
      .setExpirationTime('5m')
      .sign(privateKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    privateJwk = { ...(await exportJWK(pair.privateKey)), alg: 'ES256', kid: 'k1' };
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'http-edge-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('dev mode: reads the dev issuer key once it exists, and accepts only dev-issuer tokens', async () => {
    const verifier = jwtVerifierFor(devBearerAuth(dir));
    // Started before the intake made the key: refused as unavailable, not crashed.
    expect(await reasonOf(verifier.verify(await token(DEV_ISSUER)))).toBe('keys_unavailable');
    writeFileSync(join(dir, DEV_ISSUER_KEY_FILE), JSON.stringify(privateJwk));
    await expect(verifier.verify(await token(DEV_ISSUER))).resolves.toMatchObject({ subject: 'carol' });
    expect(await reasonOf(verifier.verify(await token('https://idp.example.test')))).toBe('wrong_issuer');
  });

  it('oidc mode: verifies against a JWKS file', async () => {
    const { d: _secret, ...publicJwk } = privateJwk;
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [publicJwk] }));
    const verifier = jwtVerifierFor({
      mode: 'oidc',
      issuer: 'https://idp.example.test',
      audience: DEFAULT_AUDIENCE,
      jwksFile: file,
      devIssuerDir: dir,
      roles: DEFAULT_ROLE_MAPPING,
    });
    await expect(verifier.verify(await token('https://idp.example.test', 'bob'))).resolves.toMatchObject({ subject: 'bob' });
    expect(await reasonOf(verifier.verify(await token(DEV_ISSUER)))).toBe('wrong_issuer');
  });
});
