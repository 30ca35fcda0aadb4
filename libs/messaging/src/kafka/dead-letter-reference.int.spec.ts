import { createHash } from 'node:crypto';
import type { DeadLetteredData } from '@grantline/contracts';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import type { RunningConsumer } from '../ports';
import { readAll, specBus, withRawProducer } from '../testing/spec-bus';
import type { Ping } from '../testing/test-events';

const { kafkaBrokers } = infraEndpoints();
const SECRET = 'sk_live_51HxQ-Sup3r-S3cret-Value';
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

describe('dead letters by reference (real broker)', () => {
  const s = specBus({ brokers: kafkaBrokers, topic: uniqueName('spec.dlref'), clientId: uniqueName('dlref'), partitions: 2 });
  let consumer: RunningConsumer | undefined;
  afterAll(async () => {
    await consumer?.stop();
    await s.bus.disconnect();
  });

  it('given poison carrying a secret, then the dead letter holds a reference and a digest, never the bytes, and the original is read back by that reference', async () => {
    await s.ready;
    const valid = s.ping({ key: 'k', seq: 1 });
    const withSecret = JSON.stringify({ ...s.ping({ key: 'k', seq: 2 }, 'evt-with-secret'), data: { key: 'k', seq: 2, password: SECRET } });
    const notJson = `{"apiKey":"${SECRET}"`;
    await withRawProducer(kafkaBrokers, (raw) =>
      raw.send({
        topic: s.topic,
        messages: [
          { partition: 1, key: 'k', value: JSON.stringify(valid) },
          { partition: 1, key: 'k', value: withSecret },
          { partition: 1, key: 'k', value: notJson },
        ],
      }),
    );
    const handled: number[] = [];
    consumer = await s.bus.consume({
      groupId: uniqueName('dlref'),
      topics: [s.topic],
      deadLetterTopic: s.deadLetterTopic,
      handler: async (event) => void handled.push((event.data as Ping).seq),
    });
    await consumer.whenCaughtUp();
    expect(handled).toEqual([1]);

    const dead = (await readAll(s.bus, s.deadLetterTopic)).map((event) => event.data as DeadLetteredData);
    expect(dead).toEqual([
      expect.objectContaining({
        origin: { topic: s.topic, partition: 1, offset: '1', key: 'k', timestamp: expect.any(String) },
        event: { id: 'evt-with-secret', type: 'iga.test.pinged.v1' },
        original: { sha256: sha256(withSecret), sizeBytes: Buffer.byteLength(withSecret) },
        issues: [{ path: 'data.password', message: 'Unrecognized key' }],
      }),
      expect.objectContaining({
        origin: expect.objectContaining({ offset: '2' }),
        original: { sha256: sha256(notJson), sizeBytes: Buffer.byteLength(notJson) },
        issues: [],
      }),
    ]);
    // Not in the decoded dead letters, and not in their bytes on the dead-letter topic either.
    const onTheLog = await s.bus.readRecords([
      { topic: s.deadLetterTopic, partition: 0, offset: '0' },
      { topic: s.deadLetterTopic, partition: 0, offset: '1' },
    ]);
    expect(onTheLog.map((record) => record?.value?.toString('utf8'))).toEqual([expect.any(String), expect.any(String)]);
    expect(onTheLog.map((record) => record?.value?.toString('utf8')).join('\n')).not.toContain(SECRET);

    // The originals, read back by reference, are the very bytes the digests name; gone offsets read as undefined.
    const originals = await s.bus.readRecords([
      ...dead.map((d) => d.origin),
      { topic: s.topic, partition: 1, offset: '99' },
      { topic: 'spec.no-such-topic', partition: 0, offset: '0' },
    ]);
    expect(originals.map((record) => record?.value?.toString('utf8'))).toEqual([withSecret, notJson, undefined, undefined]);
    expect(originals[0]).toMatchObject({ topic: s.topic, partition: 1, offset: '1', key: 'k', timestamp: dead[0]!.origin.timestamp });
  });
});
