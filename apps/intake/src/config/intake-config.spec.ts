import { DEV_ISSUER } from '@grantline/http-edge';
import { IntakeConfigError, loadIntakeConfig } from './intake-config';

describe('loadIntakeConfig', () => {
  it('defaults to the dev issuer outside production', () => {
    expect(loadIntakeConfig({})).toMatchObject({
      authMode: 'dev',
      issuer: DEV_ISSUER,
      audience: 'grantline',
      publishTimeoutMs: 10_000,
      bodyLimitBytes: 2 * 1024 * 1024,
      ownership: { transferWithin: 'P14D', fallbackRole: 'security', grantsDisposition: 'revoke_now' },
    });
  });

  it('reads the ownership policy for machine identities whose owner left, naming a bad variable', () => {
    expect(
      loadIntakeConfig({ OWNERSHIP_TRANSFER_WITHIN: 'P3D', OWNERSHIP_TRANSFER_FALLBACK_ROLE: 'admin', ORPHANED_NHI_GRANTS: 'keep_until_deadline' }),
    ).toMatchObject({
      ownership: { transferWithin: 'P3D', fallbackRole: 'admin', grantsDisposition: 'keep_until_deadline' },
    });
    expect(() => loadIntakeConfig({ ORPHANED_NHI_GRANTS: 'forget' })).toThrow(/ORPHANED_NHI_GRANTS/);
    expect(() => loadIntakeConfig({ OWNERSHIP_TRANSFER_WITHIN: 'soon' })).toThrow(/OWNERSHIP_TRANSFER_WITHIN/);
  });

  it('switches to OIDC when an issuer is configured, and requires its keys', () => {
    expect(loadIntakeConfig({ OIDC_ISSUER: 'https://idp.example', OIDC_JWKS_URL: 'https://idp.example/jwks' })).toMatchObject({
      authMode: 'oidc',
      issuer: 'https://idp.example',
      auth: { mode: 'oidc', issuer: 'https://idp.example', jwksUrl: 'https://idp.example/jwks' },
    });
    expect(() => loadIntakeConfig({ OIDC_ISSUER: 'https://idp.example' })).toThrow(/OIDC_JWKS_URL/);
  });

  it('never falls back to the dev issuer in production', () => {
    expect(() => loadIntakeConfig({ NODE_ENV: 'production' })).toThrow(IntakeConfigError);
    expect(() => loadIntakeConfig({ NODE_ENV: 'production', AUTH_MODE: 'dev' })).toThrow(/AUTH_MODE: dev auth is refused with NODE_ENV=production/);
  });

  it('refuses dev auth on a listen address other than loopback, naming HOST', () => {
    expect(() => loadIntakeConfig({ HOST: '0.0.0.0' })).toThrow(/HOST: dev auth is refused on 0.0.0.0/);
    expect(loadIntakeConfig({ HOST: '127.0.0.1' }).authMode).toBe('dev');
  });

  it('names every bad variable', () => {
    try {
      loadIntakeConfig({ AUTH_MODE: 'magic', PUBLISH_TIMEOUT_MS: '5' });
      throw new Error('accepted');
    } catch (error) {
      expect((error as IntakeConfigError).problems.map((p) => p.variable)).toEqual(['AUTH_MODE', 'PUBLISH_TIMEOUT_MS']);
    }
  });
});
