import type { DeadLetteredData, Envelope } from '@grantline/contracts';
import { InMemoryDedupStore } from '../dedup';
import type { BatchContext } from '../ports';
import { pong, readAll } from './bus-behaviour.delivery';
import { raw, withFuture } from './bus-behaviour.failures';
import type { SuiteContext } from './bus-behaviour.suite';
import { testRegistry } from './test-events';
import type { Ping } from './test-events';

/** One call of a batch handler, as it was handed over. */
interface SeenBatch {
  readonly partition: number;
  readonly attempt: number;
  readonly offsets: readonly string[];
  readonly keys: readonly (string | null)[];
  readonly events: readonly Envelope[];
}

const seen = (events: readonly Envelope[], context: BatchContext): SeenBatch => ({
  partition: context.partition,
  attempt: context.attempt,
  offsets: [...context.offsets],
  keys: [...context.keys],
  events: [...events],
});
const tagOf = (event: Envelope): string => `${(event.data as Ping).key}${(event.data as Ping).seq}`;

/** Batch handlers (a projection writing once per batch): the same contract, with the batch as the unit of work. */
export function batchBehaviour({ setup, track }: SuiteContext): void {
  it('hands a batch handler each partition batch in log order, offsets and keys index for index, committed after it returns', async () => {
    const f = await setup('batch', { partitions: 2 });
    const inputs = Array.from({ length: 40 }, (_, seq) => f.events.ping({ key: `k${seq % 4}`, seq }));
    await f.bus.publisher.publish(f.topic, inputs);
    const groupId = `${f.topic}.batch`;
    const batches: SeenBatch[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        batchHandler: async (events, context) => {
          batches.push(seen(events, context));
          return [{ topic: f.outTopic, events: events.map((event) => pong(f, event)) }];
        },
      }),
    );
    await consumer.whenCaughtUp();
    for (const batch of batches) {
      expect(batch.events.length).toBe(batch.offsets.length);
      expect(batch.keys).toEqual(batch.events.map((event) => event.subject));
      expect(batch.offsets.map(Number)).toEqual([...batch.offsets.map(Number)].sort((a, b) => a - b));
    }
    // Per partition, the batches together are that partition's records, each once, in offset order.
    for (const partition of new Set(batches.map((batch) => batch.partition))) {
      const offsets = batches.filter((batch) => batch.partition === partition).flatMap((batch) => batch.offsets.map(Number));
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    }
    expect(batches.flatMap((batch) => batch.events.map((event) => event.id)).sort()).toEqual(inputs.map((event) => event.id).sort());
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const seqs = batches
        .flatMap((batch) => batch.events)
        .filter((event) => event.subject === key)
        .map((event) => (event.data as Ping).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(batches.length).toBeLessThan(inputs.length);
    expect([...(await f.committed(groupId, f.topic)).values()].reduce((sum, offset) => sum + Number(offset), 0)).toBe(40);
    expect((await readAll(f.bus, f.outTopic)).map(({ event }) => event.causationid).sort()).toEqual(inputs.map((event) => event.id).sort());
    expect(f.bus.metrics()).toMatchObject({ handled: 40, retried: 0 });
  });

  it('retries a failing batch as a whole, the same events each time, committing nothing of it until it succeeds', async () => {
    const f = await setup('batch-retry', { partitions: 1 });
    await f.bus.publisher.publish(
      f.topic,
      [1, 2, 3].map((seq) => f.events.ping({ key: 'k', seq })),
    );
    const groupId = `${f.topic}.batch-retry`;
    const batches: SeenBatch[] = [];
    const committedWhileFailing: (string | undefined)[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
        batchHandler: async (events, context) => {
          batches.push(seen(events, context));
          if (context.attempt < 3) {
            committedWhileFailing.push((await f.committed(groupId, f.topic)).get(0));
            throw new Error('MongoNetworkError: connection reset');
          }
        },
      }),
    );
    await consumer.whenCaughtUp();
    expect(batches.map((batch) => batch.attempt)).toEqual([1, 2, 3]);
    expect(new Set(batches.map((batch) => batch.events.map(tagOf).join(','))).size).toBe(1);
    expect(batches[0]!.events.map(tagOf)).toEqual(['k1', 'k2', 'k3']);
    expect(committedWhileFailing).toEqual([undefined, undefined]);
    expect((await f.committed(groupId, f.topic)).get(0)).toBe('3');
    expect(await readAll(f.bus, f.deadLetterTopic)).toEqual([]);
    expect(f.bus.metrics()).toMatchObject({ retried: 2, handled: 3, deadLettered: 0 });
  });

  it('decides per record before the batch: poison dead-lettered, duplicates dropped, a halting record ends the batch before it', async () => {
    const f = await setup('batch-admit', { partitions: 1 });
    const future = withFuture(testRegistry(f.topic, f.outTopic).registry, f.topic);
    const { ping } = f.events;
    const once = ping({ key: 'k', seq: 2 }, 'event-once');
    await f.appendRaw(f.topic, [
      raw(0, ping({ key: 'k', seq: 1 })),
      { partition: 0, key: 'k', value: '{not json' },
      raw(0, once),
      raw(0, once),
      raw(0, future('k')),
      raw(0, ping({ key: 'k', seq: 3 })),
    ]);
    const groupId = `${f.topic}.batch-admit`;
    const handed: string[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        dedup: new InMemoryDedupStore(),
        batchHandler: async (events) => void handed.push(...events.map(tagOf)),
      }),
    );
    const halted = expect.objectContaining({ state: 'halted', partition: 0, offset: '4', eventType: 'iga.spec.future.v2' });
    await f.eventually(() => expect(consumer.health().problems).toEqual([halted]), { timeoutMs: 30_000 });
    await f.eventually(async () => expect((await f.committed(groupId, f.topic)).get(0)).toBe('4'), { timeoutMs: 30_000 });
    expect(handed).toEqual(['k1', 'k2']);
    const dead = (await readAll(f.bus, f.deadLetterTopic)).map(({ event }) => event.data as DeadLetteredData);
    expect(dead.map((d) => [d.origin.offset, d.errorClass])).toEqual([['1', 'schema_invalid']]);
    expect(f.bus.metrics()).toMatchObject({ deadLettered: 1, duplicatesDropped: 1, handled: 2 });
    expect(f.bus.metrics().halted).toBeGreaterThanOrEqual(1);
  });

  it('leaves a batch whose handler is still retrying to the next member when stopped: it gets the whole batch', async () => {
    const f = await setup('batch-stop', { partitions: 1 });
    await f.bus.publisher.publish(
      f.topic,
      [1, 2, 3].map((seq) => f.events.ping({ key: 'k', seq })),
    );
    const groupId = `${f.topic}.batch-stop`;
    let attempts = 0;
    const a = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        retry: { initialDelayMs: 10, maxDelayMs: 20 },
        batchHandler: async () => {
          attempts += 1;
          throw new Error('target system down');
        },
      }),
    );
    await f.eventually(() => expect(attempts).toBeGreaterThanOrEqual(2), { timeoutMs: 30_000 });
    await a.stop();
    expect((await f.committed(groupId, f.topic)).get(0)).toBeUndefined();
    const handed: string[] = [];
    const b = track(await f.bus.consume({ groupId, topics: [f.topic], batchHandler: async (events) => void handed.push(...events.map(tagOf)) }));
    await b.whenCaughtUp();
    expect(handed).toEqual(['k1', 'k2', 'k3']);
  });

  it('replays in batches: exactly what was on the log at the call, each batch one partition in offset order, reporting what it cannot read', async () => {
    const f = await setup('replay-batches', { partitions: 3 });
    const before = Array.from({ length: 30 }, (_, seq) => f.events.ping({ key: `acct-${seq % 4}`, seq }));
    await f.bus.publisher.publish(f.topic, before);
    await f.appendRaw(f.topic, [{ partition: 0, key: 'acct-x', value: '{not json' }]);
    const batches: { topic: string; partition: number; offsets: readonly string[]; keys: readonly (string | null)[]; events: readonly Envelope[] }[] = [];
    const invalid: { topic: string; partition: number; offset: string }[] = [];
    const count = await f.bus.replayBatches({
      topics: [f.topic],
      batchHandler: async (events, context) => {
        // Written while the replay runs: past the ends it reads to.
        if (batches.length === 0) await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'acct-0', seq: 100 })]);
        batches.push({ topic: context.topic, partition: context.partition, offsets: context.offsets, keys: context.keys, events });
      },
      onInvalid: (_error, origin) => void invalid.push(origin),
    });
    expect(count).toBe(30);
    expect(batches.flatMap((batch) => batch.events.map((event) => event.id)).sort()).toEqual(before.map((event) => event.id).sort());
    for (const batch of batches) {
      expect(batch.topic).toBe(f.topic);
      expect(batch.offsets).toHaveLength(batch.events.length);
      expect(batch.keys).toEqual(batch.events.map((event) => event.subject));
      expect(batch.offsets.map(Number)).toEqual([...batch.offsets.map(Number)].sort((a, b) => a - b));
    }
    for (const key of ['acct-0', 'acct-1', 'acct-2', 'acct-3']) {
      const seqs = batches
        .flatMap((batch) => batch.events)
        .filter((event) => event.subject === key)
        .map((event) => (event.data as Ping).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(invalid).toEqual([{ topic: f.topic, partition: 0, offset: expect.any(String) }]);
    expect(await f.bus.replayBatches({ topics: [f.outTopic], batchHandler: async () => undefined })).toBe(0);
  });
}
