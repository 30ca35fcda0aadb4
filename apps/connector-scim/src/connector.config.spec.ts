import { loadConnectorConfig } from './connector.config';

const TOKEN = 'scim-token-0123456789abcdef';

describe('loadConnectorConfig', () => {
  it('needs SCIM_URL and SCIM_BEARER_TOKEN and defaults the rest', () => {
    expect(loadConnectorConfig({ SCIM_URL: 'http://127.0.0.1:18443/scim/v2', SCIM_BEARER_TOKEN: TOKEN })).toEqual({
      connectorId: 'scim',
      scimUrl: 'http://127.0.0.1:18443/scim/v2',
      bearerToken: TOKEN,
      managedGroupPrefix: 'grantline-',
      requestTimeoutMs: 10_000,
      pageSize: 100,
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 },
    });
  });

  it('names every bad variable and never echoes the token', () => {
    const attempt = (): unknown =>
      loadConnectorConfig({
        SCIM_URL: 'ftp://crm.example.com/scim',
        SCIM_BEARER_TOKEN: 'short-secret',
        SCIM_MANAGED_GROUP_PREFIX: 'a"b',
        CONNECTOR_ID: 'Bad Id',
      });
    expect(attempt).toThrow(/SCIM_URL/);
    expect(attempt).toThrow(/SCIM_BEARER_TOKEN/);
    expect(attempt).toThrow(/SCIM_MANAGED_GROUP_PREFIX/);
    expect(attempt).toThrow(/CONNECTOR_ID/);
    expect(attempt).not.toThrow(/short-secret/);
  });

  it('refuses a missing token', () => {
    expect(() => loadConnectorConfig({ SCIM_URL: 'https://crm.example.com/scim/v2' })).toThrow(/SCIM_BEARER_TOKEN/);
  });
});
