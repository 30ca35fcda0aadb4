import { toCloudEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { RawLogRecord } from '../ports';
import type { SuiteContext } from './bus-behaviour.suite';
import type { Ping } from './test-events';

/** The log as a whole: what replay reads, when a group is caught up, which log a bus is on. */
export function logBehaviour({ setup, track }: SuiteContext): void {
  it('replays exactly what was on the log when replay was called, in per-key order, reporting what it cannot read', async () => {
    const f = await setup('replay', { partitions: 3 });
    const before = Array.from({ length: 30 }, (_, seq) => f.events.ping({ key: `acct-${seq % 4}`, seq }));
    await f.bus.publisher.publish(f.topic, before);
    await f.appendRaw(f.topic, [{ partition: 0, key: 'acct-x', value: '{not json' }]);
    const seen: Envelope[] = [];
    const invalid: { topic: string; partition: number; offset: string }[] = [];
    const count = await f.bus.replay({
      topics: [f.topic],
      handler: async (event) => {
        // Written while the replay runs: past the ends it reads to.
        if (seen.length === 0) await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'acct-0', seq: 100 }), f.events.ping({ key: 'acct-1', seq: 101 })]);
        seen.push(event);
      },
      onInvalid: (_error, origin) => void invalid.push(origin),
    });
    expect(count).toBe(30);
    expect(seen.map((event) => event.id).sort()).toEqual(before.map((event) => event.id).sort());
    for (const key of ['acct-0', 'acct-1', 'acct-2', 'acct-3']) {
      const seqs = seen.filter((event) => event.subject === key).map((event) => (event.data as Ping).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(invalid).toEqual([{ topic: f.topic, partition: 0, offset: expect.any(String) }]);
    expect(await f.bus.replay({ topics: [f.topic], handler: async () => undefined })).toBe(32);
    expect(await f.bus.replay({ topics: [f.outTopic], handler: async () => undefined })).toBe(0);
  });

  it('replays from given offsets: a reader that folded part of a partition reads only what follows', async () => {
    const f = await setup('replay-from', { partitions: 2 });
    await f.bus.publisher.publish(
      f.topic,
      Array.from({ length: 8 }, (_, seq) => f.events.ping({ key: `acct-${seq % 2}`, seq })),
    );
    const positions: { partition: number; offset: string }[] = [];
    await f.bus.replay({ topics: [f.topic], handler: async (_event, { partition, offset }) => void positions.push({ partition, offset }) });
    const first = (partition: number): string => positions.filter((p) => p.partition === partition).map((p) => p.offset)[0]!;
    const partitions = [...new Set(positions.map((p) => p.partition))];
    // From the second record of the first partition; the others from the beginning
    const from = { [f.topic]: { [partitions[0]!]: (BigInt(first(partitions[0]!)) + 1n).toString() } };
    const tail: { partition: number; offset: string }[] = [];
    const count = await f.bus.replay({ topics: [f.topic], from, handler: async (_event, { partition, offset }) => void tail.push({ partition, offset }) });
    expect(count).toBe(7);
    expect(tail).not.toContainEqual({ partition: partitions[0], offset: first(partitions[0]!) });
    expect(tail.map((p) => `${p.partition}/${p.offset}`).sort()).toEqual(
      positions
        .filter((p) => !(p.partition === partitions[0] && p.offset === first(partitions[0]!)))
        .map((p) => `${p.partition}/${p.offset}`)
        .sort(),
    );
  });

  it('replays raw records: every record as its bytes (key, value, headers) per partition in offset order, from given offsets to the ends at call time', async () => {
    const f = await setup('replay-raw', { partitions: 2 });
    const published = Array.from({ length: 6 }, (_, seq) => f.events.ping({ key: `acct-${seq % 3}`, seq }));
    await f.bus.publisher.publish(f.topic, published);
    await f.appendRaw(f.topic, [{ partition: 1, key: null, value: '{not json', headers: { 'x-origin': 'foreign' } }]);
    const read = async (from?: Record<string, Record<number, string>>): Promise<{ count: number; byPartition: Map<number, RawLogRecord[]> }> => {
      const byPartition = new Map<number, RawLogRecord[]>();
      let wroteDuring = false;
      const count = await f.bus.replayRaw({
        topics: [f.topic, f.outTopic, `${f.topic}.never-created`],
        ...(from === undefined ? {} : { from }),
        batchHandler: async (records, { topic, partition }) => {
          // Written while the replay runs: past the ends it reads to.
          if (!wroteDuring) {
            wroteDuring = true;
            await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'acct-0', seq: 100 })]);
          }
          expect(topic).toBe(f.topic);
          for (const record of records) expect({ topic: record.topic, partition: record.partition }).toEqual({ topic, partition });
          byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...records]);
        },
      });
      return { count, byPartition };
    };

    const all = await read();
    expect(await f.bus.listTopics()).toEqual(expect.arrayContaining([f.topic, f.outTopic]));
    expect(await f.bus.listTopics()).not.toContain(`${f.topic}.never-created`);
    expect(all.count).toBe(7);
    const records = [...all.byPartition.values()].flat();
    expect(records).toHaveLength(7);
    for (const list of all.byPartition.values()) {
      const offsets = list.map((record) => BigInt(record.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(offsets).size).toBe(offsets.length);
    }
    for (const event of published) {
      const record = records.find((candidate) => candidate.value?.toString('utf8') === JSON.stringify(toCloudEvent(event)));
      expect(record?.key?.toString('utf8')).toBe(event.subject);
      // Structured content mode: the content type says so, and no binary-mode `ce_` header contradicts it.
      expect(record?.headers.map(({ key, value }) => [key, value?.toString('utf8')])).toEqual([
        ['content-type', 'application/cloudevents+json; charset=utf-8'],
      ]);
    }
    const poison = all.byPartition.get(1)?.find((record) => record.value?.toString('utf8') === '{not json');
    expect(poison).toMatchObject({ key: null, headers: [{ key: 'x-origin', value: Buffer.from('foreign', 'utf8') }] });
    expect(poison?.timestamp).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));

    // A follower reads only what it has not seen: from the second record of partition 0, nothing of partition 1.
    const partition0 = all.byPartition.get(0) ?? [];
    const partition1 = all.byPartition.get(1) ?? [];
    const endOf1 = (BigInt(partition1[partition1.length - 1]!.offset) + 1n).toString();
    const tail = await read({ [f.topic]: { 0: partition0[1]!.offset, 1: endOf1 } });
    const after = (await f.bus.replayRaw({ topics: [f.topic], batchHandler: async () => undefined })) - 7;
    expect(after).toBe(2); // the two written during the replays
    const tail0 = tail.byPartition.get(0) ?? [];
    expect(tail0.map((record) => record.offset).slice(0, partition0.length - 1)).toEqual(partition0.slice(1).map((record) => record.offset));
    expect(tail.byPartition.get(1)?.filter((record) => BigInt(record.offset) < BigInt(endOf1)) ?? []).toEqual([]);
  });

  it('is caught up at once on empty topics, and once the group has committed everything that was published', async () => {
    const f = await setup('caught-up', { partitions: 2 });
    const groupId = `${f.topic}.caught-up`;
    const idle = track(await f.bus.consume({ groupId: `${groupId}.idle`, topics: [f.outTopic], handler: async () => undefined }));
    await idle.whenCaughtUp({ timeoutMs: 10_000 });
    await f.bus.publisher.publish(
      f.topic,
      Array.from({ length: 8 }, (_, seq) => f.events.ping({ key: `k${seq}`, seq })),
    );
    const handled: number[] = [];
    const consumer = track(await f.bus.consume({ groupId, topics: [f.topic], handler: async (event) => void handled.push((event.data as Ping).seq) }));
    await consumer.whenCaughtUp();
    expect([...handled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const committed = await f.committed(groupId, f.topic);
    expect([...committed.values()].reduce((sum, offset) => sum + Number(offset), 0)).toBe(8);
  });

  it('names its log: every bus on the same log answers the same identity', async () => {
    const f = await setup('identity', { partitions: 1 });
    const identity = await f.bus.logIdentity();
    expect(identity.clusterId).toEqual(expect.any(String));
    expect(await f.sibling(f.events.registry).logIdentity()).toEqual(identity);
  });
}
