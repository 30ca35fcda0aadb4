import { apiAuthConfigFrom } from '@grantline/service-kit';
import { DEV_ISSUER } from '@grantline/http-edge';
import { loadApprovalConfig } from './approval.config';

describe('loadApprovalConfig', () => {
  it('defaults: escalate on deadline, security group, 2-day tasks, 4h break-glass', () => {
    const config = loadApprovalConfig({});
    expect(config.policy).toMatchObject({ securityGroup: 'security', onDeadline: 'escalate', defaultTaskTimeout: 'P2D', breakGlassMaxDuration: 'PT4H' });
    expect(config.directoryWaitMs).toBe(30_000);
  });

  it('reads the directory wait in milliseconds: 0 routes at once, fractions, negatives and over 10 minutes are refused', () => {
    expect(loadApprovalConfig({ APPROVAL_DIRECTORY_WAIT_MS: '0' }).directoryWaitMs).toBe(0);
    expect(loadApprovalConfig({ APPROVAL_DIRECTORY_WAIT_MS: '1500' }).directoryWaitMs).toBe(1500);
    for (const bad of ['soon', '1.5', '-1', '600001']) {
      expect(() => loadApprovalConfig({ APPROVAL_DIRECTORY_WAIT_MS: bad })).toThrow(/APPROVAL_DIRECTORY_WAIT_MS/);
    }
  });

  it('authenticates as every service does (the kit): dev by default, oidc when an issuer is configured or in production', () => {
    // The approval service has no auth settings of its own any more: ApiAuthModule reads these for it.
    expect(apiAuthConfigFrom({})).toMatchObject({ mode: 'dev', issuer: DEV_ISSUER, audience: 'grantline' });
    expect(apiAuthConfigFrom({ OIDC_ISSUER: 'https://idp.test', OIDC_JWKS_URL: 'https://idp.test/jwks' })).toMatchObject({
      mode: 'oidc',
      issuer: 'https://idp.test',
      jwksUrl: 'https://idp.test/jwks',
    });
    expect(() => apiAuthConfigFrom({ NODE_ENV: 'production' })).toThrow();
    expect(() => apiAuthConfigFrom({ OIDC_ISSUER: 'https://idp.test' })).toThrow(/OIDC_JWKS_URL or OIDC_JWKS_FILE/);
    expect(loadApprovalConfig({ AUTH_MODE: 'dev', OIDC_ISSUER: 'https://idp.test' })).not.toHaveProperty('auth');
  });

  it('reads groups as JSON and names every bad variable', () => {
    expect(loadApprovalConfig({ APPROVAL_GROUPS: '{"security":["sec-1"]}' }).policy.groups.get('security')).toEqual(['sec-1']);
    expect(() => loadApprovalConfig({ APPROVAL_GROUPS: '[1]', APPROVAL_ON_DEADLINE: 'ignore', BREAK_GLASS_MAX_DURATION: 'P1M' })).toThrow(
      /APPROVAL_GROUPS.*APPROVAL_ON_DEADLINE.*BREAK_GLASS_MAX_DURATION|APPROVAL_ON_DEADLINE.*APPROVAL_GROUPS/,
    );
  });
});
