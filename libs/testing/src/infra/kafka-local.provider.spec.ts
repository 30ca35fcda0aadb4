import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KAFKA_VERSION, infraPaths } from './infra.config';
import { kafkaServerProperties, newKafkaClusterId } from './kafka-local.provider';

function parseProperties(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]),
  );
}

describe('local Kafka configuration', () => {
  const props = parseProperties(kafkaServerProperties({ dataDir: '/data/kafka', port: 19092, controllerPort: 19093 }));

  it('runs one combined KRaft node on loopback only', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
  });

  it('lets transactions and groups work on a single broker', () => {
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('log.dirs')).toBe('/data/kafka');
  });

  it('keeps every record of a topic created without its own retention settings (docs/adr/0015)', () => {
    expect(props.get('log.retention.ms')).toBe('-1');
    expect(props.get('log.retention.bytes')).toBe('-1');
    // log.retention.ms wins over the hours and minutes forms, so none of them may bring a limit back
    expect(props.has('log.retention.hours')).toBe(false);
    expect(props.has('log.retention.minutes')).toBe(false);
  });

  it('makes cluster ids in Kafka Uuid form (22 base64url chars, no leading dash)', () => {
    for (let i = 0; i < 500; i++) {
      const id = newKafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('fetches the same broker version the harness pins (tools/kafka/pom.xml)', () => {
    const pom = readFileSync(join(infraPaths().root, 'tools/kafka/pom.xml'), 'utf8');
    expect(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(KAFKA_VERSION);
  });
});
