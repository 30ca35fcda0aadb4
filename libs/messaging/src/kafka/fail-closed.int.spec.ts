import { z } from 'zod';
import { TOPICS, defineEvent } from '@grantline/contracts';
import type { Envelope, EventRegistry, TopicName } from '@grantline/contracts';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { TerminalError } from '../errors';
import { silentLogger } from '../logger';
import type { RunningConsumer } from '../ports';
import { committedOffsets, readAll, specBus, withRawProducer } from '../testing/spec-bus';
import { testRegistry } from '../testing/test-events';
import type { Ping } from '../testing/test-events';
import { KafkaMessageBus } from './kafka-bus';

const { kafkaBrokers } = infraEndpoints();
/** Each spec its own topics and client. */
const setup = (name: string, partitions: number) =>
  specBus({ brokers: kafkaBrokers, topic: uniqueName(`spec.${name}`), clientId: uniqueName(name), partitions });

/** An event a newer release writes: known to the producer's registry, not to the consumer's. */
const FutureSchema = z.strictObject({ key: z.string().min(1) });
function withFuture(registry: EventRegistry, topic: string) {
  const future = defineEvent('iga.spec.future', 2, topic as TopicName, FutureSchema);
  registry.register(future);
  return (key: string): Envelope =>
    registry.encode(
      future,
      { key },
      {
        id: uniqueName('future'),
        source: 'grantline/messaging-spec',
        time: new Date(0).toISOString(),
        subject: key,
        correlationid: key,
        actor: { kind: 'system', id: 'messaging-spec' },
      },
    );
}

const record = (partition: number, event: Envelope) => ({ partition, key: event.subject, value: JSON.stringify(event) });

describe('KafkaMessageBus fails closed (real broker)', () => {
  const buses: KafkaMessageBus[] = [];
  const consumers: RunningConsumer[] = [];
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await Promise.all(buses.splice(0).map((b) => b.disconnect()));
  });
  const track = <T extends { bus: KafkaMessageBus }>(s: T): T => {
    buses.push(s.bus);
    return s;
  };

  it('given a handler throwing TerminalError, then it is retried, not dead-lettered, and the partition moves on once it succeeds', async () => {
    const s = track(setup('terminal', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 1 }), s.ping({ key: 'k', seq: 2 })]);
    const handled: { seq: number; attempt: number }[] = [];
    const consumer = await s.bus.consume({
      groupId: uniqueName('terminal'),
      topics: [s.topic],
      deadLetterTopic: s.deadLetterTopic,
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      handler: async (event, context) => {
        const { seq } = event.data as Ping;
        if (seq === 1 && context.attempt < 3) throw new TerminalError('entitlement unknown to the catalogue');
        handled.push({ seq, attempt: context.attempt });
      },
    });
    consumers.push(consumer);
    await consumer.whenCaughtUp();
    expect(handled).toEqual([
      { seq: 1, attempt: 3 },
      { seq: 2, attempt: 1 },
    ]);
    expect(await readAll(s.bus, s.deadLetterTopic)).toEqual([]);
    expect(s.bus.metrics()).toMatchObject({ retried: 2, deadLettered: 0 });
  });

  it('given a handler that keeps failing, then its partition is reported stalled, nothing is committed past it, and stop() ends the retrying at once', async () => {
    const s = track(setup('stall', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 1 })]);
    const group = uniqueName('stall');
    let attempts = 0;
    const consumer = await s.bus.consume({
      groupId: group,
      topics: [s.topic],
      deadLetterTopic: s.deadLetterTopic,
      // The second attempt waits 30-60 s: stop() must not sit it out.
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      stallAfterMs: 300,
      handler: async () => {
        attempts += 1;
        throw new Error('MongoServerSelectionError: no primary');
      },
    });
    consumers.push(consumer);
    await eventually(
      () =>
        expect(consumer.health().problems).toEqual([
          expect.objectContaining({ state: 'stalled', cause: 'failing', topic: s.topic, partition: 0, offset: '0' }),
        ]),
      { timeoutMs: 30_000 },
    );
    const health = await s.bus.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/stalled at offset 0/);
    expect(health.consumers?.[0]).toMatchObject({ groupId: group, ok: false });

    const stopping = Date.now();
    await consumer.stop();
    expect(Date.now() - stopping).toBeLessThan(15_000);
    expect(attempts).toBe(1);
    expect((await committedOffsets(kafkaBrokers, group, s.topic)).get(0) ?? '-1').toBe('-1');
    expect(await readAll(s.bus, s.deadLetterTopic)).toEqual([]);
    expect((await s.bus.health()).consumers).toEqual([]);
  });

  it('given an event type this service does not know, then its partition halts at that offset, the others flow, and a release that knows the type resumes exactly there', async () => {
    const s = track(setup('halt', 2));
    await s.ready;
    const newer = testRegistry(s.topic, s.outTopic);
    const future = withFuture(newer.registry, s.topic);
    await withRawProducer(kafkaBrokers, (raw) =>
      raw.send({
        topic: s.topic,
        messages: [
          record(0, s.ping({ key: 'a', seq: 1 })),
          record(0, future('a')),
          record(0, s.ping({ key: 'a', seq: 2 })),
          record(1, s.ping({ key: 'b', seq: 1 })),
        ],
      }),
    );
    const group = uniqueName('halt');
    const handled: string[] = [];
    const old = await s.bus.consume({
      groupId: group,
      topics: [s.topic],
      deadLetterTopic: s.deadLetterTopic,
      handler: async (event, context) => void handled.push(`${context.partition}:${(event.data as Ping).key}${(event.data as Ping).seq}`),
    });
    consumers.push(old);
    await eventually(
      () =>
        expect(old.health().problems).toEqual([
          expect.objectContaining({ state: 'halted', topic: s.topic, partition: 0, offset: '1', eventType: 'iga.spec.future.v2' }),
        ]),
      { timeoutMs: 30_000 },
    );
    expect((await s.bus.health()).ok).toBe(false);
    expect(s.bus.metrics().halted).toBeGreaterThanOrEqual(1);
    await expect(old.whenCaughtUp({ timeoutMs: 5_000 })).rejects.toThrow(/halted.*offset 1 \(iga\.spec\.future\.v2\)/);

    // The other partition keeps flowing; the halted one handles nothing past the unknown event.
    await withRawProducer(kafkaBrokers, (raw) => raw.send({ topic: s.topic, messages: [record(1, s.ping({ key: 'b', seq: 2 }))] }));
    await eventually(() => expect(handled).toContain('1:b2'), { timeoutMs: 30_000 });
    expect(handled.filter((h) => h.startsWith('0:'))).toEqual(['0:a1']);
    expect((await committedOffsets(kafkaBrokers, group, s.topic)).get(0)).toBe('1');
    expect(await readAll(s.bus, s.deadLetterTopic)).toEqual([]);
    await old.stop();

    // Restarted with a release that knows the type: the same group resumes at the halted offset, nothing skipped.
    const upgraded = new KafkaMessageBus({ clientId: uniqueName('halt-upgraded'), brokers: kafkaBrokers, registry: newer.registry, logger: silentLogger });
    track({ bus: upgraded });
    const resumed: string[] = [];
    const consumer = await upgraded.consume({
      groupId: group,
      topics: [s.topic],
      deadLetterTopic: s.deadLetterTopic,
      handler: async (event, context) => void resumed.push(`${context.partition}@${context.offset}:${event.type}`),
    });
    consumers.push(consumer);
    await consumer.whenCaughtUp();
    expect(resumed).toEqual([`0@1:iga.spec.future.v2`, `0@2:iga.test.pinged.v1`]);
    expect(consumer.health().ok).toBe(true);
  });

  it('given an unknown event type on the topic an external upstream writes (ITSM inbound), then it is dead-lettered, not halted', async () => {
    const namespace = uniqueName('ns-upstream').replace(/_/g, '-');
    const events = testRegistry(TOPICS.itsmInbound, `${TOPICS.itsmInbound}.out`);
    const bus = track({
      bus: new KafkaMessageBus({ clientId: uniqueName('upstream'), brokers: kafkaBrokers, registry: events.registry, logger: silentLogger, namespace }),
    }).bus;
    try {
      await bus.ensureTopics([
        { topic: TOPICS.itsmInbound, partitions: 1 },
        { topic: TOPICS.deadLetter, partitions: 1 },
      ]);
      const future = withFuture(testRegistry(TOPICS.itsmInbound, 'unused').registry, TOPICS.itsmInbound);
      await withRawProducer(kafkaBrokers, (raw) => raw.send({ topic: bus.namespace.topic(TOPICS.itsmInbound), messages: [record(0, future('ritm-1'))] }));
      await bus.publish(TOPICS.itsmInbound, [events.ping({ key: 'ritm-2', seq: 2 })]);
      const handled: number[] = [];
      const consumer = await bus.consume({
        groupId: 'itsm-intake',
        topics: [TOPICS.itsmInbound],
        handler: async (event) => void handled.push((event.data as Ping).seq),
      });
      consumers.push(consumer);
      await consumer.whenCaughtUp();
      expect(handled).toEqual([2]);
      const dead = await readAll(bus, TOPICS.deadLetter);
      expect(dead.map((e) => e.data)).toEqual([
        expect.objectContaining({
          errorClass: 'unknown_type',
          origin: { topic: TOPICS.itsmInbound, partition: 0, offset: '0', key: 'ritm-1', timestamp: expect.any(String) },
          reason: expect.stringMatching(/iga\.spec\.future\.v2/),
        }),
      ]);
      expect(consumer.health()).toMatchObject({ ok: true, problems: [] });
      expect(bus.metrics()).toMatchObject({ halted: 0, deadLettered: 1 });
    } finally {
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
      await bus.deleteNamespace();
    }
  });
});
