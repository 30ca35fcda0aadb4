import { loadConnectorConfig } from './connector.config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const FILES = { CREDENTIAL_JWT_KEY_FILE: '/keys/jwt.jwk.json', CREDENTIAL_CA_KEY_FILE: '/keys/ca.pem', CREDENTIAL_CA_CERT_FILE: '/keys/ca.cert.pem' };

describe('connector-credentials configuration', () => {
  it('reads the key files, the entitlements and the sealing key, with the defaults', () => {
    const config = loadConnectorConfig({ ...FILES, CREDENTIAL_SEALING_KEY: KEY });
    expect(config).toMatchObject({
      connectorId: 'credentials',
      issuer: 'urn:grantline:credentials',
      keys: { kind: 'files', files: { jwtKeyFile: '/keys/jwt.jwk.json', caKeyFile: '/keys/ca.pem', caCertFile: '/keys/ca.cert.pem' } },
      entitlements: ['deploy-api-prod', 'mesh-prod'],
      crlValidityMs: 300_000,
    });
    expect(config.sealingKey).toBeDefined();
  });

  it('requires the sealing key, and names it without echoing a bad value', () => {
    expect(() => loadConnectorConfig(FILES)).toThrow(/CREDENTIAL_SEALING_KEY: Required/);
    expect(() => loadConnectorConfig({ ...FILES, CREDENTIAL_SEALING_KEY: 'hunter2' })).toThrow(/CREDENTIAL_SEALING_KEY/);
    expect(() => loadConnectorConfig({ ...FILES, CREDENTIAL_SEALING_KEY: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('requires the key files unless a development key directory is given, which production refuses', () => {
    expect(() => loadConnectorConfig({ CREDENTIAL_SEALING_KEY: KEY })).toThrow(/CREDENTIAL_JWT_KEY_FILE.*CREDENTIAL_CA_KEY_FILE.*CREDENTIAL_CA_CERT_FILE/);
    expect(loadConnectorConfig({ CREDENTIAL_SEALING_KEY: KEY, CREDENTIAL_DEV_KEYS_DIR: '/tmp/dev-keys' }).keys).toEqual({ kind: 'dev', dir: '/tmp/dev-keys' });
    expect(() => loadConnectorConfig({ CREDENTIAL_SEALING_KEY: KEY, CREDENTIAL_DEV_KEYS_DIR: '/tmp/k', NODE_ENV: 'production' })).toThrow(
      /CREDENTIAL_DEV_KEYS_DIR: refused/,
    );
  });
});
