import type { InfraState } from '@grantline/testing';
import { useLocalInfrastructure } from './local-infrastructure';

describe('the CLI on a checkout whose local infrastructure runs', () => {
  const kafka = {
    component: 'kafka',
    mode: 'local',
    version: 'Apache Kafka 4.4.0',
    address: '127.0.0.1:19092',
    url: '127.0.0.1:19092',
    startedAt: '2026-12-03T10:00:00.000Z',
  };
  const state = (extra: Record<string, unknown> = {}): InfraState =>
    ({ owner: 'cli', updatedAt: '2026-12-03T10:00:00.000Z', components: { kafka: { ...kafka, ...extra } } }) as unknown as InfraState;

  it('given no KAFKA_BROKERS, then it uses the local broker in the local platform namespace', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(useLocalInfrastructure(env, state())).toBe('the local infrastructure (Kafka 127.0.0.1:19092)');
    expect(env).toMatchObject({ KAFKA_BROKERS: '127.0.0.1:19092', KAFKA_TOPIC_NAMESPACE: 'local' });
  });

  it('given a namespace, then it is kept', () => {
    const env: NodeJS.ProcessEnv = { KAFKA_TOPIC_NAMESPACE: 'e2e-run1' };
    useLocalInfrastructure(env, state());
    expect(env['KAFKA_TOPIC_NAMESPACE']).toBe('e2e-run1');
  });

  it('given KAFKA_BROKERS (a deployment), then nothing changes', () => {
    const env: NodeJS.ProcessEnv = { KAFKA_BROKERS: 'kafka.prod:9093' };
    expect(useLocalInfrastructure(env, state())).toBeUndefined();
    expect(env).toEqual({ KAFKA_BROKERS: 'kafka.prod:9093' });
  });

  it('given no local infrastructure, then nothing changes', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(useLocalInfrastructure(env, undefined)).toBeUndefined();
    expect(env).toEqual({});
  });
});
