import type { Envelope } from '@grantline/contracts';
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
