import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaServerProperties } from './kafka-local.provider';
import { KAFKA_ADMIN_USER, ensureKafkaCredentials, kafkaSecurity, newKafkaBrokerSecrets, readKafkaCredentials, scramFormatArguments } from './kafka-security';
import { exportEndpoints } from './infra-manager';

function parseProperties(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]),
  );
}

describe('the broker security switch (GRANTLINE_KAFKA_SECURITY, docs/adr/0017)', () => {
  it('is sasl unless set to plaintext, and names the variable for anything else', () => {
    expect(kafkaSecurity({})).toBe('sasl');
    expect(kafkaSecurity({ GRANTLINE_KAFKA_SECURITY: 'plaintext' })).toBe('plaintext');
    expect(kafkaSecurity({ GRANTLINE_KAFKA_SECURITY: 'sasl' })).toBe('sasl');
    expect(() => kafkaSecurity({ GRANTLINE_KAFKA_SECURITY: 'ssl' })).toThrow(/GRANTLINE_KAFKA_SECURITY=ssl .* expected "sasl" or "plaintext"/);
  });
});

describe('a SASL broker configuration', () => {
  const secrets = newKafkaBrokerSecrets();
  const props = parseProperties(kafkaServerProperties({ dataDir: '/data/kafka', port: 19092, controllerPort: 19093, sasl: secrets }));

  it('authenticates clients with SCRAM-SHA-512 on loopback and authorizes with the KRaft authorizer, deny by default', () => {
    expect(props.get('listeners')).toBe('SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('SASL_PLAINTEXT://127.0.0.1:19092');
    expect(props.get('sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    expect(props.get('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(props.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(props.get('super.users')).toBe(`User:${KAFKA_ADMIN_USER};User:controller`);
    // no listener without authentication
    expect(props.get('listener.security.protocol.map')).not.toMatch(/:PLAINTEXT/);
  });

  it('keeps everything else of the plaintext broker', () => {
    const plain = parseProperties(kafkaServerProperties({ dataDir: '/data/kafka', port: 19092, controllerPort: 19093 }));
    for (const key of ['log.dirs', 'auto.create.topics.enable', 'transaction.state.log.replication.factor', 'process.roles']) {
      expect(props.get(key)).toBe(plain.get(key));
    }
    expect(plain.get('authorizer.class.name')).toBeUndefined();
  });

  it('formats the storage with the bootstrap admin', () => {
    expect(scramFormatArguments(secrets)).toEqual(['--add-scram', `SCRAM-SHA-512=[name=${KAFKA_ADMIN_USER},password=${secrets.adminPassword}]`]);
  });
});

describe('the local credentials file', () => {
  it('is created owner-only, keeps passwords across calls and adds the missing users', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kafka-credentials-')), 'kafka-sasl', 'credentials.json');
    const first = ensureKafkaCredentials(file, ['intake', 'policy']);
    expect(first.added).toEqual(['intake', 'policy']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = ensureKafkaCredentials(file, ['intake', 'policy', 'audit']);
    expect(second.added).toEqual(['audit']);
    expect(second.credentials.users['intake']).toBe(first.credentials.users['intake']);
    expect(second.credentials.adminPassword).toBe(first.credentials.adminPassword);
    expect(readKafkaCredentials(file)).toEqual(second.credentials);
  });

  it('is exported to specs as its path and the admin login, only for a SASL broker', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kafka-credentials-')), 'credentials.json');
    const { credentials } = ensureKafkaCredentials(file, ['intake']);
    const runtime = { component: 'kafka' as const, mode: 'local' as const, version: 'x', address: '127.0.0.1:1', url: '127.0.0.1:1', startedAt: 'now' };
    const env: NodeJS.ProcessEnv = {};
    exportEndpoints([{ ...runtime, security: 'sasl', credentialsFile: file }], env);
    expect(env).toEqual({
      KAFKA_BROKERS: '127.0.0.1:1',
      GRANTLINE_KAFKA_SECURITY: 'sasl',
      GRANTLINE_KAFKA_CREDENTIALS: file,
      KAFKA_SASL_USERNAME: KAFKA_ADMIN_USER,
      KAFKA_SASL_PASSWORD: credentials.adminPassword,
    });
    const plain: NodeJS.ProcessEnv = {};
    exportEndpoints([runtime], plain);
    expect(plain).toEqual({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(readFileSync(file, 'utf8')).toContain(credentials.users['intake']);
  });
});
