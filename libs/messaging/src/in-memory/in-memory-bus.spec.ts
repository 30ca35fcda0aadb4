import { Partitioners } from 'kafkajs';
import { eventually } from '@grantline/testing';
import { silentLogger } from '../logger';
import { testRegistry } from '../testing/test-events';
import type { Ping } from '../testing/test-events';
import { InMemoryMessageBus } from './in-memory-bus';
import { InMemoryLog } from './in-memory-log';
import { partitionForKey } from './partitioner';

const TOPIC = 'spec.in-memory';
const setup = (log?: InMemoryLog) => {
  const events = testRegistry(TOPIC, `${TOPIC}.out`);
  const bus = new InMemoryMessageBus({ registry: events.registry, logger: silentLogger, ...(log ? { log } : {}) });
  return { ...events, bus };
};

describe('InMemoryMessageBus', () => {
  it('puts a key on the partition Kafka would (kafkajs DefaultPartitioner, murmur2)', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 2, 3, 7, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
        partitionErrorCode: 0,
      }));
      for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'req-42', 'alice@example.com', 'ümlaut-ключ-鍵', 'x'.repeat(101)]) {
        expect(partitionForKey(key, partitions)).toBe(kafkajs({ topic: TOPIC, partitionMetadata, message: { key, value: null } }));
      }
    }
  });

  it('keeps what was published as bytes and decodes it for the spec: events, by type, size, records', async () => {
    const { bus, ping } = setup();
    await bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 }), ping({ key: 'k', seq: 2 })]);
    bus.appendRaw(TOPIC, { key: 'k', value: '{not json' });
    expect(bus.events(TOPIC).map((event) => (event.data as Ping).seq)).toEqual([1, 2]);
    expect(bus.ofType('iga.test.pinged.v1')).toHaveLength(2);
    expect(bus.events('spec.elsewhere')).toEqual([]);
    expect(bus.size(TOPIC)).toBe(3);
    expect(bus.records(TOPIC).map((record) => [record.offset, record.key, record.value?.toString('utf8').slice(0, 9)])).toEqual([
      ['0', 'k', '{"specver'],
      ['1', 'k', '{"specver'],
      ['2', 'k', '{not json'],
    ]);
    expect(bus.metrics().published).toBe(2);
  });

  it('appends events to the topics their definitions name, in arrival order across topics', () => {
    const { bus, ping, registry, ponged } = setup();
    const pong = registry.encode(
      ponged,
      { key: 'k', seq: 9 },
      { id: 'pong-9', source: 'spec', time: new Date(0).toISOString(), subject: 'k', correlationid: 'k', actor: { kind: 'system', id: 'spec' } },
    );
    bus.append(ping({ key: 'k', seq: 1 }), pong, ping({ key: 'k', seq: 2 }));
    expect(bus.events().map((event) => event.type)).toEqual(['iga.test.pinged.v1', 'iga.test.ponged.v1', 'iga.test.pinged.v1']);
    expect(bus.size(`${TOPIC}.out`)).toBe(1);
  });

  it('fails the next publishes when asked, writing nothing, then publishes again', async () => {
    const { bus, ping } = setup();
    bus.failNextPublish(2);
    await expect(bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })])).rejects.toThrow('broker unavailable');
    await expect(bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })])).rejects.toThrow('broker unavailable');
    expect(bus.size()).toBe(0);
    await bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })]);
    expect(bus.size()).toBe(1);
  });

  it('lets concurrent publishes overlap for the simulated latency', async () => {
    const { bus, ping } = setup();
    bus.latencyMs = 20;
    const order: string[] = [];
    await Promise.all(
      ['a', 'b'].map(async (key) => {
        order.push(`start ${key}`);
        await bus.publisher.publish(TOPIC, [ping({ key, seq: 1 })]);
        order.push(`acked ${key}`);
      }),
    );
    expect(order).toEqual(['start a', 'start b', 'acked a', 'acked b']);
  });

  it('refuses topics nobody created when the log does not create them, as the Kafka producers do', async () => {
    const { bus, ping } = setup(new InMemoryLog({ autoCreateTopics: false }));
    await expect(bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })])).rejects.toThrow(/does not host/);
    await expect(bus.consume({ groupId: 'g', topics: [TOPIC], handler: async () => undefined })).rejects.toThrow(/does not host/);
    await bus.ensureTopics([{ topic: TOPIC, partitions: 4 }]);
    await bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })]);
    expect(bus.records(TOPIC)[0]?.partition).toBe(partitionForKey('k', 4));
  });

  it('gives a group to one member at a time: a second one stands by and takes over from the committed offsets', async () => {
    const log = new InMemoryLog({ defaultPartitions: 2 });
    const { bus, ping } = setup(log);
    const other = setup(log).bus;
    await bus.publisher.publish(
      TOPIC,
      [1, 2, 3].map((seq) => ping({ key: `k${seq}`, seq })),
    );
    const seen: string[] = [];
    const first = await bus.consume({ groupId: 'g', topics: [TOPIC], handler: async (event) => void seen.push(`first:${(event.data as Ping).seq}`) });
    const second = await other.consume({ groupId: 'g', topics: [TOPIC], handler: async (event) => void seen.push(`second:${(event.data as Ping).seq}`) });
    await first.whenCaughtUp();
    await second.whenCaughtUp();
    await first.stop();
    await bus.publisher.publish(TOPIC, [ping({ key: 'k4', seq: 4 })]);
    await eventually(() => expect(seen).toContain('second:4'));
    expect(seen.filter((entry) => entry.startsWith('first:')).sort()).toEqual(['first:1', 'first:2', 'first:3']);
    expect(seen.filter((entry) => entry.startsWith('second:'))).toEqual(['second:4']);
    await second.stop();
  });

  it('names each log apart, and answers records by reference (undefined for what it never held)', async () => {
    const { bus, ping } = setup();
    await bus.publisher.publish(TOPIC, [ping({ key: 'k', seq: 1 })]);
    expect((await bus.logIdentity()).clusterId).not.toBe((await setup().bus.logIdentity()).clusterId);
    const [held, beyond, nowhere] = await bus.readRecords([
      { topic: TOPIC, partition: 0, offset: '0' },
      { topic: TOPIC, partition: 0, offset: '1' },
      { topic: 'spec.none', partition: 0, offset: '0' },
    ]);
    expect(held).toMatchObject({ topic: TOPIC, partition: 0, offset: '0', key: 'k', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect([beyond, nowhere]).toEqual([undefined, undefined]);
  });
});
