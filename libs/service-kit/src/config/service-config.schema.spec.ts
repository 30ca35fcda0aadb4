import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { loadServiceConfig, ServiceConfigError } from './service-config.schema';

const valid = { KAFKA_BROKERS: '127.0.0.1:9092', MONGO_URL: 'mongodb://127.0.0.1:27017' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadServiceConfig(env, { serviceName: 'intake', defaultPort: 3101 });
  } catch (error) {
    if (error instanceof ServiceConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadServiceConfig', () => {
  it('derives defaults from the service name', () => {
    expect(loadServiceConfig(valid, { serviceName: 'intake', defaultPort: 3101 })).toEqual({
      serviceName: 'intake',
      port: 3101,
      host: '127.0.0.1',
      kafkaBrokers: ['127.0.0.1:9092'],
      mongoUrl: 'mongodb://127.0.0.1:27017',
      mongoDb: 'grantline_intake',
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      consumerStallAfterMs: 60_000,
      stateSnapshots: { minEvents: 100_000, compactEveryMs: 300_000 },
    });
  });

  it('reads the snapshot settings, and turns snapshots off when asked', () => {
    expect(
      loadServiceConfig({ ...valid, STATE_SNAPSHOT_MIN_EVENTS: '5000', STATE_SNAPSHOT_COMPACT_EVERY_MS: '0' }, { serviceName: 'intake' }).stateSnapshots,
    ).toEqual({
      minEvents: 5000,
      compactEveryMs: 0,
    });
    expect(loadServiceConfig({ ...valid, STATE_SNAPSHOTS: 'off' }, { serviceName: 'intake' }).stateSnapshots).toBeUndefined();
  });

  it('names the snapshot variable that is wrong', () => {
    expect(() => loadServiceConfig({ ...valid, STATE_SNAPSHOTS: 'maybe', STATE_SNAPSHOT_MIN_EVENTS: '0' }, { serviceName: 'intake' })).toThrow(
      /STATE_SNAPSHOTS: on or off.*STATE_SNAPSHOT_MIN_EVENTS/,
    );
  });

  it('reads every variable from the environment', () => {
    const config = loadServiceConfig(
      {
        SERVICE_NAME: 'policy-replica',
        PORT: '0',
        HOST: '0.0.0.0',
        KAFKA_BROKERS: ' a:1, b:2 ,',
        MONGO_URL: 'mongodb://db:27017/?directConnection=true',
        MONGO_DB: 'custom',
        LOG_LEVEL: 'debug',
        SHUTDOWN_TIMEOUT_MS: '2500',
      },
      { serviceName: 'policy', defaultPort: 3102 },
    );
    expect(config).toMatchObject({
      serviceName: 'policy-replica',
      port: 0,
      host: '0.0.0.0',
      kafkaBrokers: ['a:1', 'b:2'],
      mongoDb: 'custom',
      logLevel: 'debug',
      shutdownTimeoutMs: 2500,
    });
  });

  it('names the database after a dashed service name with underscores', () => {
    expect(loadServiceConfig(valid, { serviceName: 'connector-postgres' }).mongoDb).toBe('grantline_connector_postgres');
  });

  it.each([
    ['KAFKA_BROKERS', { MONGO_URL: valid.MONGO_URL }],
    ['KAFKA_BROKERS', { ...valid, KAFKA_BROKERS: '  ' }],
    ['KAFKA_BROKERS', { ...valid, KAFKA_BROKERS: 'localhost' }],
    ['MONGO_URL', { KAFKA_BROKERS: valid.KAFKA_BROKERS }],
    ['MONGO_URL', { ...valid, MONGO_URL: 'postgres://x' }],
    ['PORT', { ...valid, PORT: 'eighty' }],
    ['PORT', { ...valid, PORT: '70000' }],
    ['LOG_LEVEL', { ...valid, LOG_LEVEL: 'loud' }],
    ['MONGO_DB', { ...valid, MONGO_DB: 'a.b' }],
    ['SERVICE_NAME', { ...valid, SERVICE_NAME: 'Intake Service' }],
    ['SHUTDOWN_TIMEOUT_MS', { ...valid, SHUTDOWN_TIMEOUT_MS: '5' }],
  ])('rejects a bad %s', (variable, env) => {
    expect(problemsOf(env)).toEqual([variable]);
  });

  it('reports every bad variable at once, by name, in the message', () => {
    expect(() => loadServiceConfig({ PORT: 'x' }, { serviceName: 'audit' })).toThrow(
      /invalid service configuration: PORT: .*; KAFKA_BROKERS: required.*; MONGO_URL: required/,
    );
  });

  it('given a topic namespace, then the bus gets it; given a malformed one, then the variable is named', () => {
    expect(loadServiceConfig({ ...valid, KAFKA_TOPIC_NAMESPACE: 'e2e-run1' }, { serviceName: 'intake' })).toMatchObject({
      kafkaNamespace: 'e2e-run1',
      // Its own databases too: read models and checkpoints belong to one log.
      mongoDb: 'grantline_e2e_run1_intake',
    });
    expect(loadServiceConfig({ ...valid, KAFKA_TOPIC_NAMESPACE: 'e2e-run1', MONGO_DB: 'chosen' }, { serviceName: 'intake' }).mongoDb).toBe('chosen');
    expect(loadServiceConfig({ ...valid, KAFKA_TOPIC_NAMESPACE: ' ' }, { serviceName: 'intake' }).kafkaNamespace).toBeUndefined();
    expect(problemsOf({ ...valid, KAFKA_TOPIC_NAMESPACE: 'E2E.run' })).toEqual(['KAFKA_TOPIC_NAMESPACE']);
  });
});

describe('loadServiceConfig: the Kafka principal (docs/adr/0017)', () => {
  const password = 'p'.repeat(24);

  it('reads the login and never exposes the password when the config is logged or serialised', () => {
    const config = loadServiceConfig({ ...valid, KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD: password }, { serviceName: 'intake' });
    expect(config.kafkaSasl?.username).toBe('intake');
    expect(config.kafkaSasl?.password).toBe(password);
    expect(JSON.stringify(config)).not.toContain(password);
    expect(JSON.stringify({ ...config.kafkaSasl })).not.toContain(password);
    expect(inspect(config, { depth: 5 })).not.toContain(password);
  });

  it('reads the password from a file (a mounted secret)', () => {
    const file = `${mkdtempSync(`${tmpdir()}/svc-config-`)}/kafka.password`;
    writeFileSync(file, `${password}\n`);
    expect(loadServiceConfig({ ...valid, KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD_FILE: file }, { serviceName: 'intake' }).kafkaSasl?.password).toBe(
      password,
    );
  });

  it('runs without a login against a plaintext broker', () => {
    expect(loadServiceConfig(valid, { serviceName: 'intake' }).kafkaSasl).toBeUndefined();
  });

  it.each([
    ['KAFKA_SASL_PASSWORD', { KAFKA_SASL_USERNAME: 'intake' }],
    ['KAFKA_SASL_USERNAME', { KAFKA_SASL_PASSWORD: password }],
    ['KAFKA_SASL_PASSWORD', { KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD: 'short' }],
    ['KAFKA_SASL_PASSWORD_FILE', { KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD: password, KAFKA_SASL_PASSWORD_FILE: '/x' }],
    ['KAFKA_SASL_PASSWORD_FILE', { KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD_FILE: '/nonexistent/kafka.password' }],
  ])('names %s when the login is incomplete or bad, without the value', (variable, extra) => {
    expect(problemsOf({ ...valid, ...extra })).toEqual([variable]);
    try {
      loadServiceConfig({ ...valid, ...extra }, { serviceName: 'intake' });
    } catch (error) {
      expect((error as Error).message).not.toContain(password);
      expect((error as Error).message).not.toContain('short');
    }
  });
});
