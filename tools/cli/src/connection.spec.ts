import { SettingsError, kafkaSettings } from './connection';

describe('Kafka settings, as the services read them', () => {
  it('given KAFKA_BROKERS and KAFKA_TOPIC_NAMESPACE, then they are used', () => {
    expect(kafkaSettings({ KAFKA_BROKERS: ' 127.0.0.1:19092, kafka-2:9092 ', KAFKA_TOPIC_NAMESPACE: 'local' })).toEqual({
      brokers: ['127.0.0.1:19092', 'kafka-2:9092'],
      namespace: 'local',
    });
  });

  it('given no namespace (or a blank one), then the catalogue names are used as they are', () => {
    expect(kafkaSettings({ KAFKA_BROKERS: 'k:9092' })).toEqual({ brokers: ['k:9092'] });
    expect(kafkaSettings({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_NAMESPACE: '  ' })).toEqual({ brokers: ['k:9092'] });
  });

  it('given flags, then they win over the environment; an empty --namespace means none', () => {
    expect(kafkaSettings({ KAFKA_BROKERS: 'a:1', KAFKA_TOPIC_NAMESPACE: 'local' }, { brokers: 'b:2', namespace: '' })).toEqual({ brokers: ['b:2'] });
    expect(kafkaSettings({ KAFKA_BROKERS: 'a:1' }, { namespace: 'e2e-run1' })).toEqual({ brokers: ['a:1'], namespace: 'e2e-run1' });
  });

  it('given what a service would refuse, then it says which variable and why', () => {
    expect(() => kafkaSettings({})).toThrow(new SettingsError('KAFKA_BROKERS is not set: comma-separated host:port list of Kafka brokers (or --brokers)'));
    expect(() => kafkaSettings({ KAFKA_BROKERS: 'no-port' })).toThrow(/each broker must be host:port/);
    expect(() => kafkaSettings({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_NAMESPACE: 'Prod_1' })).toThrow(/KAFKA_TOPIC_NAMESPACE: lowercase letters/);
  });
});
