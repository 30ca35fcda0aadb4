import { loadConnectorConfig } from './connector.config';

describe('loadConnectorConfig', () => {
  it("targets the platform's broker with the service's own login unless told otherwise, and defaults the prefixes", () => {
    const config = loadConnectorConfig({ KAFKA_BROKERS: '127.0.0.1:19092', KAFKA_SASL_USERNAME: 'connector:kafka-acl', KAFKA_SASL_PASSWORD: 'p'.repeat(32) });
    expect(config).toEqual({
      connectorId: 'kafka-acl',
      brokers: ['127.0.0.1:19092'],
      sasl: { username: 'connector:kafka-acl' },
      managedResourcePrefix: 'jit.',
      managedPrincipalPrefix: 'User:svc-',
      requestTimeoutMs: 10_000,
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 },
    });
    expect(config.sasl?.password).toBe('p'.repeat(32));
    // the password is not enumerable: serialising the configuration never shows it
    expect(JSON.stringify(config)).not.toContain('p'.repeat(32));
  });

  it('takes a target broker and login of its own', () => {
    const config = loadConnectorConfig({
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_SASL_USERNAME: 'connector:kafka-acl',
      KAFKA_SASL_PASSWORD: 'p'.repeat(32),
      KAFKA_ACL_BROKERS: 'kafka-a:9092, kafka-b:9092',
      KAFKA_ACL_SASL_USERNAME: 'acl-admin',
      KAFKA_ACL_SASL_PASSWORD: 's'.repeat(32),
      KAFKA_ACL_MANAGED_PREFIX: 'team-a.',
    });
    expect(config).toMatchObject({ brokers: ['kafka-a:9092', 'kafka-b:9092'], sasl: { username: 'acl-admin' }, managedResourcePrefix: 'team-a.' });
    expect(config.sasl?.password).toBe('s'.repeat(32));
  });

  it("names every bad variable, refuses a prefix covering the platform's topics, and never echoes a password", () => {
    const attempt = (): unknown =>
      loadConnectorConfig({
        KAFKA_ACL_SASL_USERNAME: 'acl-admin',
        KAFKA_SASL_PASSWORD: 'secret-password-value',
        KAFKA_ACL_MANAGED_PREFIX: 'iga.',
        KAFKA_ACL_PRINCIPAL_PREFIX: 'svc-',
      });
    expect(attempt).toThrow(/KAFKA_ACL_BROKERS: Required/);
    expect(attempt).toThrow(/KAFKA_ACL_SASL_PASSWORD: set both/);
    expect(attempt).toThrow(/KAFKA_SASL_USERNAME: set both/);
    expect(attempt).toThrow(/KAFKA_ACL_MANAGED_PREFIX: must not cover Grantline's own topics/);
    expect(attempt).toThrow(/KAFKA_ACL_PRINCIPAL_PREFIX/);
    expect(attempt).not.toThrow(/secret-password-value/);
    expect(() => loadConnectorConfig({ KAFKA_BROKERS: 'x:1', KAFKA_ACL_MANAGED_PREFIX: 'i' })).toThrow(/KAFKA_ACL_MANAGED_PREFIX/);
  });
});
