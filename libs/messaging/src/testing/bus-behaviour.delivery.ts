import type { Envelope } from '@grantline/contracts';
import { InMemoryDedupStore } from '../dedup';
import { deterministicEventId } from '../event-id';
import type { HandlerOutput, MessageBus, ReplayOptions } from '../ports';
import type { BusFixture, SuiteContext } from './bus-behaviour.suite';
import type { Ping } from './test-events';

/** The output a spec handler derives from its input: its id is a pure function of the input's. */
export function pong(f: BusFixture, event: Envelope, data: Ping = event.data as Ping): Envelope {
  return f.events.registry.encode(f.events.ponged, data, {
    id: deterministicEventId('pong', event.id),
    source: 'grantline/messaging-spec',
    time: event.time,
    subject: event.subject,
    correlationid: event.correlationid,
    causationid: event.id,
    actor: { kind: 'system', id: 'messaging-spec' },
  });
}

type Replayed = { event: Envelope; partition: number; offset: string };

/** Everything on a topic, through the bus's own replay. */
export async function readAll(bus: MessageBus, topic: string, onInvalid?: ReplayOptions['onInvalid']): Promise<Replayed[]> {
  const seen: Replayed[] = [];
  await bus.replay({
    topics: [topic],
    handler: async (event, { partition, offset }) => void seen.push({ event, partition, offset }),
    ...(onInvalid ? { onInvalid } : {}),
  });
  return seen;
}

const seqOf = (event: Envelope): number => (event.data as Ping).seq;

/** Order, commits, outputs, transactions, duplicates, replay and lag: what a consumer may rely on when all goes well. */
export function deliveryBehaviour({ setup, track }: SuiteContext): void {
  it('keeps per-key order across partitions: a key always lands on the same partition', async () => {
    const f = await setup('order', { partitions: 3 });
    const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`);
    const events: Envelope[] = [];
    for (let seq = 0; seq < 30; seq += 1) for (const key of keys) events.push(f.events.ping({ key, seq }));
    await f.bus.publisher.publish(f.topic, events);
    const seen = new Map<string, number[]>();
    const partitions = new Map<string, Set<number>>();
    const consumer = track(
      await f.bus.consume({
        groupId: `${f.topic}.order`,
        topics: [f.topic],
        partitionsConsumedConcurrently: 3,
        handler: async (event, context) => {
          const { key, seq } = event.data as Ping;
          seen.set(key, [...(seen.get(key) ?? []), seq]);
          partitions.set(key, (partitions.get(key) ?? new Set()).add(context.partition));
        },
      }),
    );
    await consumer.whenCaughtUp({ timeoutMs: 60_000 });
    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const key of keys) expect(partitions.get(key)?.size).toBe(1);
    expect(new Set([...partitions.values()].flatMap((set) => [...set])).size).toBeGreaterThan(1);
  });

  it('resumes a group after its last committed message: a new member handles only what came since, nothing twice', async () => {
    const f = await setup('resume', { partitions: 2 });
    const groupId = `${f.topic}.resume`;
    await f.bus.publisher.publish(
      f.topic,
      Array.from({ length: 20 }, (_, seq) => f.events.ping({ key: `k${seq % 5}`, seq })),
    );
    const first: number[] = [];
    const a = track(await f.bus.consume({ groupId, topics: [f.topic], handler: async (event) => void first.push(seqOf(event)) }));
    await a.whenCaughtUp();
    await a.stop();
    await f.bus.publisher.publish(
      f.topic,
      Array.from({ length: 10 }, (_, i) => f.events.ping({ key: `k${i % 5}`, seq: 20 + i })),
    );
    const second: number[] = [];
    const b = track(await f.bus.consume({ groupId, topics: [f.topic], handler: async (event) => void second.push(seqOf(event)) }));
    await b.whenCaughtUp();
    expect([...first].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...second].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
  });

  it('commits only what was handled: a member stopped while a handler is retrying leaves that message to the next one', async () => {
    const f = await setup('stop-mid', { partitions: 1 });
    const groupId = `${f.topic}.stop-mid`;
    await f.bus.publisher.publish(
      f.topic,
      [1, 2, 3, 4, 5].map((seq) => f.events.ping({ key: 'k', seq })),
    );
    const first: number[] = [];
    let attempts = 0;
    const a = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        retry: { initialDelayMs: 10, maxDelayMs: 20 },
        handler: async (event) => {
          if (seqOf(event) !== 3) return void first.push(seqOf(event));
          attempts += 1;
          throw new Error('target system down');
        },
      }),
    );
    await f.eventually(() => expect(attempts).toBeGreaterThanOrEqual(2), { timeoutMs: 30_000 });
    expect(BigInt((await f.committed(groupId, f.topic)).get(0) ?? '-1')).toBeLessThanOrEqual(2n);
    await a.stop();
    const second: number[] = [];
    const b = track(await f.bus.consume({ groupId, topics: [f.topic], handler: async (event) => void second.push(seqOf(event)) }));
    await b.whenCaughtUp();
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([3, 4, 5]);
  });

  it('publishes what a handler returns, keyed like its input, before the input is committed', async () => {
    const f = await setup('outputs', { partitions: 3 });
    const inputs = Array.from({ length: 12 }, (_, seq) => f.events.ping({ key: `req-${seq % 4}`, seq }));
    await f.bus.publisher.publish(f.topic, inputs);
    const inputPartition = new Map<string, number>();
    const consumer = track(
      await f.bus.consume({
        groupId: `${f.topic}.outputs`,
        topics: [f.topic],
        handler: async (event, context) => {
          inputPartition.set(event.id, context.partition);
          return [{ topic: f.outTopic, events: [pong(f, event)] }];
        },
      }),
    );
    await consumer.whenCaughtUp();
    const outputs = await readAll(f.bus, f.outTopic);
    expect(outputs.map(({ event }) => event.causationid).sort()).toEqual(inputs.map((event) => event.id).sort());
    // Same key, same partition count: the output lands on its input's partition number.
    for (const { event, partition } of outputs) expect(partition).toBe(inputPartition.get(event.causationid!));
  });

  it('does not commit a message whose outputs could not be published: it is handled again and its output lands once', async () => {
    const f = await setup('output-fails', { partitions: 1 });
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'req-1', seq: 1 }, 'event-out-once')]);
    let calls = 0;
    track(
      await f.bus.consume({
        groupId: `${f.topic}.output-fails`,
        topics: [f.topic],
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
        handler: async (event) => {
          calls += 1;
          // First attempt: an output larger than the broker accepts, so publishing it fails.
          return [{ topic: f.outTopic, events: [pong(f, event, { ...(event.data as Ping), note: calls === 1 ? 'x'.repeat(2_000_000) : 'ok' })] }];
        },
      }),
    );
    await f.eventually(async () => expect((await readAll(f.bus, f.outTopic)).map(({ event }) => (event.data as Ping).note)).toEqual(['ok']), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(calls).toBe(2);
    expect(f.bus.metrics().commitFailures).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('commits transactional outputs with the offset: each output exactly once, partitions processed concurrently', async () => {
    const f = await setup('tx', { partitions: 3 });
    await f.bus.publisher.publish(
      f.topic,
      Array.from({ length: 60 }, (_, seq) => f.events.ping({ key: `req-${seq % 7}`, seq })),
    );
    const consumer = track(
      await f.bus.consume({
        groupId: `${f.topic}.tx`,
        topics: [f.topic],
        transactional: true,
        partitionsConsumedConcurrently: 3,
        handler: async (event) => [{ topic: f.outTopic, events: [pong(f, event)] }],
      }),
    );
    await consumer.whenCaughtUp({ timeoutMs: 60_000 });
    // Kafka's commit markers reach the partitions a moment after the transaction commits.
    await f.eventually(
      async () => {
        const outputs = await readAll(f.bus, f.outTopic);
        expect(outputs).toHaveLength(60);
        expect(new Set(outputs.map(({ event }) => event.causationid)).size).toBe(60);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 90_000);

  it('handles a message whose transaction failed again on redelivery, not dropping it as a duplicate', async () => {
    const f = await setup('tx-fails', { partitions: 1 });
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'req-9', seq: 9 }, 'event-once')]);
    let calls = 0;
    track(
      await f.bus.consume({
        groupId: `${f.topic}.tx-fails`,
        topics: [f.topic],
        transactional: true,
        dedup: new InMemoryDedupStore(),
        handler: async (event) => {
          calls += 1;
          // First attempt: an output larger than the broker accepts, so the transaction aborts.
          return [{ topic: f.outTopic, events: [pong(f, event, { ...(event.data as Ping), note: calls === 1 ? 'x'.repeat(2_000_000) : 'ok' })] }];
        },
      }),
    );
    await f.eventually(
      async () => expect((await readAll(f.bus, f.outTopic)).map(({ event }) => [event.causationid, (event.data as Ping).note])).toEqual([['event-once', 'ok']]),
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    expect(calls).toBe(2);
    expect(f.bus.metrics().commitFailures).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('drops an exact duplicate before the handler with a dedup store; another group derives the very same output ids', async () => {
    const f = await setup('dedup', { partitions: 1 });
    const original = f.events.ping({ key: 'req-1', seq: 7 }, 'event-fixed-id');
    await f.bus.publisher.publish(f.topic, [original, original, f.events.ping({ key: 'req-2', seq: 8 }, 'event-other-id')]);
    const handled: string[] = [];
    const respond = async (event: Envelope): Promise<HandlerOutput[]> => {
      handled.push(event.id);
      return [{ topic: f.outTopic, events: [pong(f, event)] }];
    };
    const options = { topics: [f.topic], transactional: true, handler: respond };
    const consumer = track(await f.bus.consume({ ...options, groupId: `${f.topic}.dedup`, dedup: new InMemoryDedupStore() }));
    await consumer.whenCaughtUp();
    expect(handled).toEqual(['event-fixed-id', 'event-other-id']);
    expect(f.bus.metrics().duplicatesDropped).toBe(1);
    const again = track(await f.bus.consume({ ...options, groupId: `${f.topic}.dedup-again` }));
    await again.whenCaughtUp();
    await f.eventually(
      async () => {
        const outputs = await readAll(f.bus, f.outTopic);
        expect(outputs).toHaveLength(5);
        expect(new Set(outputs.map(({ event }) => event.id)).size).toBe(2);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
}
