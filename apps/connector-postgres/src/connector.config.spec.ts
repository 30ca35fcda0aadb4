import { loadConnectorConfig } from './connector.config';

describe('loadConnectorConfig', () => {
  it('needs PG_URL and defaults the rest', () => {
    expect(loadConnectorConfig({ PG_URL: 'postgres://u:p@127.0.0.1:5432/db' })).toEqual({
      connectorId: 'postgres',
      pgUrl: 'postgres://u:p@127.0.0.1:5432/db',
      managedRolePrefix: 'grantline_',
      credentialRolePrefix: 'grantline_cred_',
      statementTimeoutMs: 10_000,
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 },
    });
  });

  it('names every bad variable and never echoes the URL', () => {
    const attempt = (): unknown => loadConnectorConfig({ PG_URL: 'mysql://u:secret@h/db', CONNECTOR_ID: 'Bad Id', CONNECTOR_MAX_ATTEMPTS: '0' });
    expect(attempt).toThrow(/PG_URL.*CONNECTOR_ID|CONNECTOR_ID.*PG_URL/);
    expect(attempt).toThrow(/CONNECTOR_MAX_ATTEMPTS/);
    expect(attempt).not.toThrow(/secret/);
  });
});
