import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TOPICS, defineEvent } from '@grantline/contracts';
import type { DeadLetteredData, Envelope, EventRegistry, TopicName } from '@grantline/contracts';
import { RetriableError, TerminalError } from '../errors';
import { readAll } from './bus-behaviour.delivery';
import type { SuiteContext } from './bus-behaviour.suite';
import { testRegistry } from './test-events';
import type { Ping } from './test-events';

/** An event a newer release writes: known to the producer's registry, not to the consumer's. */
export function withFuture(registry: EventRegistry, topic: string): (key: string) => Envelope {
  const future = defineEvent('iga.spec.future', 2, topic as TopicName, z.strictObject({ key: z.string().min(1) }));
  registry.register(future);
  let count = 0;
  return (key) =>
    registry.encode(
      future,
      { key },
      {
        id: `future-${key}-${count++}`,
        source: 'grantline/messaging-spec',
        time: new Date(0).toISOString(),
        subject: key,
        correlationid: key,
        actor: { kind: 'system', id: 'messaging-spec' },
      },
    );
}

/** An event as raw bytes on a chosen partition. */
export const raw = (partition: number, event: Envelope) => ({ partition, key: event.subject, value: JSON.stringify(event) });
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Fail closed (ADR 0009): handler failures retried forever, only unreadable records dead-lettered, the unknown halts. */
export function failureBehaviour({ setup, track }: SuiteContext): void {
  it('retries a failing handler, whatever it throws, until it succeeds: committed only after, never dead-lettered', async () => {
    const f = await setup('retry', { partitions: 1 });
    await f.bus.publisher.publish(
      f.topic,
      ['flaky', 'down', 'terminal'].map((note, i) => f.events.ping({ key: 'k', seq: i + 1, note })),
    );
    const groupId = `${f.topic}.retry`;
    const attempts = new Map<number, number>();
    const handled: number[] = [];
    const committedWhileFailing: string[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        // maxAttempts does not bound a consumer's retries: a handler is retried until it succeeds.
        retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
        handler: async (event, context) => {
          const { seq, note } = event.data as Ping;
          attempts.set(seq, context.attempt);
          if (note === 'flaky' && context.attempt < 2) throw new RetriableError('target busy');
          if (note === 'down' && context.attempt <= 5) {
            committedWhileFailing.push((await f.committed(groupId, f.topic)).get(0) ?? '-1');
            throw new Error('MongoNetworkError: connection reset');
          }
          if (note === 'terminal' && context.attempt < 3) throw new TerminalError('entitlement unknown to the catalogue');
          handled.push(seq);
        },
      }),
    );
    await consumer.whenCaughtUp();
    expect(handled).toEqual([1, 2, 3]);
    expect(Object.fromEntries(attempts)).toEqual({ 1: 2, 2: 6, 3: 3 });
    expect(committedWhileFailing).toHaveLength(5);
    for (const offset of committedWhileFailing) expect(BigInt(offset)).toBeLessThanOrEqual(1n);
    expect((await f.committed(groupId, f.topic)).get(0)).toBe('3');
    expect(await readAll(f.bus, f.deadLetterTopic)).toEqual([]);
    expect(f.bus.metrics()).toMatchObject({ retried: 8, deadLettered: 0, handled: 3 });
  });

  it('reports a partition whose handler keeps failing as stalled, commits nothing past it, and stops its retrying at once', async () => {
    const f = await setup('stall', { partitions: 1 });
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'k', seq: 1 })]);
    const groupId = `${f.topic}.stall`;
    let attempts = 0;
    const consumer = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        // The second attempt waits 30-60 s: stop() must not sit it out.
        retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
        stallAfterMs: 300,
        handler: async () => {
          attempts += 1;
          throw new Error('MongoServerSelectionError: no primary');
        },
      }),
    );
    await f.eventually(
      () =>
        expect(consumer.health().problems).toEqual([
          expect.objectContaining({ state: 'stalled', cause: 'failing', topic: f.topic, partition: 0, offset: '0' }),
        ]),
      {
        timeoutMs: 30_000,
      },
    );
    const health = await f.bus.health();
    expect(health).toMatchObject({ ok: false, detail: expect.stringMatching(/stalled at offset 0/) });
    expect(health.consumers?.[0]).toMatchObject({ groupId, ok: false });
    await expect(consumer.whenCaughtUp({ timeoutMs: 500 })).rejects.toThrow(/not caught up/);

    const stopping = Date.now();
    await consumer.stop();
    expect(Date.now() - stopping).toBeLessThan(15_000);
    expect(attempts).toBe(1);
    expect((await f.committed(groupId, f.topic)).get(0)).toBeUndefined();
    expect(await readAll(f.bus, f.deadLetterTopic)).toEqual([]);
    expect((await f.bus.health()).consumers).toEqual([]);
  });

  it('dead-letters poison (not JSON, breaking its contract) by reference, and the partition flows on', async () => {
    const f = await setup('poison', { partitions: 1 });
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'k', seq: 1 })]);
    const invalid = JSON.stringify({ ...f.events.ping({ key: 'k', seq: 2 }), data: { key: '' } });
    await f.appendRaw(f.topic, [
      { key: 'k', value: '{not json' },
      { key: 'k', value: invalid },
    ]);
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'k', seq: 3 }), f.events.ping({ key: 'k', seq: 4 })]);
    const handled: number[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId: `${f.topic}.poison`,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        handler: async (event) => void handled.push((event.data as Ping).seq),
      }),
    );
    await consumer.whenCaughtUp();
    expect(handled).toEqual([1, 3, 4]);

    const dead = (await readAll(f.bus, f.deadLetterTopic)).map(({ event }) => event.data as DeadLetteredData);
    expect(dead.map((d) => d.origin)).toEqual([
      { topic: f.topic, partition: 0, offset: '1', key: 'k', timestamp: expect.any(String) },
      { topic: f.topic, partition: 0, offset: '2', key: 'k', timestamp: expect.any(String) },
    ]);
    expect(dead.map((d) => d.errorClass)).toEqual(['schema_invalid', 'schema_invalid']);
    expect(dead[0]!.reason).toMatch(/undecodable/i);
    expect(dead[1]!.reason).toMatch(/data\.key/);
    // A reference and a digest, never a copy of the bytes: the original is read back by that reference.
    expect(dead.map((d) => d.original.sha256)).toEqual([sha256('{not json'), sha256(invalid)]);
    const originals = await f.bus.readRecords!(dead.map((d) => d.origin));
    expect(originals.map((record) => record?.value?.toString('utf8'))).toEqual(['{not json', invalid]);
    expect(originals[0]).toMatchObject({ topic: f.topic, partition: 0, offset: '1', key: 'k', timestamp: dead[0]!.origin.timestamp });
    expect(consumer.health()).toMatchObject({ groupId: `${f.topic}.poison`, ok: true, problems: [] });
    expect(f.bus.metrics()).toMatchObject({ deadLettered: 2, halted: 0 });
  });

  it('publishes an envelope that breaks its contract as any other bytes: the consumer refuses it, dead-lettered', async () => {
    const f = await setup('invalid-published', { partitions: 1 });
    // Built by hand, past the registry's encode: neither transport validates again on the way out.
    const invalid = { ...f.events.ping({ key: 'k', seq: 1 }), data: { key: 'k', seq: -1 } } as Envelope;
    await f.bus.publisher.publish(f.topic, [invalid, f.events.ping({ key: 'k', seq: 2 })]);
    const handled: number[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId: `${f.topic}.invalid`,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        handler: async (event) => void handled.push((event.data as Ping).seq),
      }),
    );
    await consumer.whenCaughtUp();
    expect(handled).toEqual([2]);
    const dead = (await readAll(f.bus, f.deadLetterTopic)).map(({ event }) => event.data as DeadLetteredData);
    expect(dead).toEqual([
      expect.objectContaining({
        errorClass: 'schema_invalid',
        origin: expect.objectContaining({ offset: '0' }),
        event: { id: invalid.id, type: invalid.type },
      }),
    ]);
  });

  it('halts a partition at an event type this service does not know; the others flow; a release that knows it resumes exactly there', async () => {
    const f = await setup('halt', { partitions: 2 });
    const newer = testRegistry(f.topic, f.outTopic);
    const future = withFuture(newer.registry, f.topic);
    const { ping } = f.events;
    await f.appendRaw(f.topic, [
      raw(0, ping({ key: 'a', seq: 1 })),
      raw(0, future('a')),
      raw(0, ping({ key: 'a', seq: 2 })),
      raw(1, ping({ key: 'b', seq: 1 })),
    ]);
    const groupId = `${f.topic}.halt`;
    const handled: string[] = [];
    const old = track(
      await f.bus.consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        handler: async (event, context) => void handled.push(`${context.partition}:${(event.data as Ping).key}${(event.data as Ping).seq}`),
      }),
    );
    const halted = expect.objectContaining({ state: 'halted', topic: f.topic, partition: 0, offset: '1', eventType: 'iga.spec.future.v2' });
    await f.eventually(() => expect(old.health().problems).toEqual([halted]), { timeoutMs: 30_000 });
    expect(await f.bus.health()).toMatchObject({ ok: false, consumers: [{ groupId, ok: false, problems: [halted] }] });
    expect(f.bus.metrics().halted).toBeGreaterThanOrEqual(1);
    await expect(old.whenCaughtUp({ timeoutMs: 5_000 })).rejects.toThrow(/halted.*offset 1 \(iga\.spec\.future\.v2\)/);

    await f.appendRaw(f.topic, [raw(1, ping({ key: 'b', seq: 2 }))]);
    await f.eventually(() => expect(handled).toContain('1:b2'), { timeoutMs: 30_000 });
    expect(handled.filter((h) => h.startsWith('0:'))).toEqual(['0:a1']);
    expect((await f.committed(groupId, f.topic)).get(0)).toBe('1');
    expect(await readAll(f.bus, f.deadLetterTopic)).toEqual([]);
    await old.stop();

    const resumed: string[] = [];
    const upgraded = track(
      await f.sibling(newer.registry).consume({
        groupId,
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        handler: async (event, context) => void resumed.push(`${context.partition}@${context.offset}:${event.type}`),
      }),
    );
    await upgraded.whenCaughtUp();
    expect(resumed).toEqual(['0@1:iga.spec.future.v2', '0@2:iga.test.pinged.v1']);
    expect(upgraded.health().ok).toBe(true);
  });

  it('dead-letters an unknown event type on a topic an external upstream writes (ITSM inbound) instead of halting', async () => {
    const f = await setup('upstream', { partitions: 1, topic: TOPICS.itsmInbound });
    const future = withFuture(testRegistry(TOPICS.itsmInbound, 'unused').registry, TOPICS.itsmInbound);
    await f.appendRaw(f.topic, [raw(0, future('ritm-1'))]);
    await f.bus.publisher.publish(f.topic, [f.events.ping({ key: 'ritm-2', seq: 2 })]);
    const handled: number[] = [];
    const consumer = track(
      await f.bus.consume({
        groupId: 'itsm-intake',
        topics: [f.topic],
        deadLetterTopic: f.deadLetterTopic,
        handler: async (event) => void handled.push((event.data as Ping).seq),
      }),
    );
    await consumer.whenCaughtUp();
    expect(handled).toEqual([2]);
    expect((await readAll(f.bus, f.deadLetterTopic)).map(({ event }) => event.data)).toEqual([
      expect.objectContaining({
        errorClass: 'unknown_type',
        origin: { topic: TOPICS.itsmInbound, partition: 0, offset: '0', key: 'ritm-1', timestamp: expect.any(String) },
        reason: expect.stringMatching(/iga\.spec\.future\.v2/),
      }),
    ]);
    expect(consumer.health()).toMatchObject({ ok: true, problems: [] });
    expect(f.bus.metrics()).toMatchObject({ halted: 0, deadLettered: 1 });
  });
}
