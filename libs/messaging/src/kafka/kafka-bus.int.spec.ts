import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Envelope } from '@grantline/contracts';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { InMemoryDedupStore } from '../dedup';
import { RetriableError } from '../errors';
import { deterministicEventId } from '../event-id';
import { silentLogger } from '../logger';
import type { HandlerOutput, RunningConsumer } from '../ports';
import { committedOffsets, readAll, specBus, withRawProducer } from '../testing/spec-bus';
import { testRegistry } from '../testing/test-events';
import type { Ping } from '../testing/test-events';
import { KafkaMessageBus } from './kafka-bus';
import { kafkajsSaslFromEnv } from './kafka-sasl';

const { kafkaBrokers } = infraEndpoints();

/** Each spec its own topics and client. */
const setup = (name: string, partitions = 3) => specBus({ brokers: kafkaBrokers, topic: uniqueName(`spec.${name}`), clientId: uniqueName(name), partitions });

/** The output a spec handler derives from its input: its id is a pure function of the input's. */
function pong(s: Pick<ReturnType<typeof testRegistry>, 'registry' | 'ponged'>, event: Envelope, data: Ping): Envelope {
  return s.registry.encode(s.ponged, data, {
    id: deterministicEventId('pong', event.id),
    source: 'grantline/messaging-spec',
    time: event.time,
    subject: event.subject,
    correlationid: event.correlationid,
    causationid: event.id,
    actor: { kind: 'system', id: 'messaging-spec' },
  });
}

describe('KafkaMessageBus against a real broker', () => {
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

  it('lets several services create the same topics at once and publish right away', async () => {
    const topic = uniqueName('spec.race');
    const racers = Array.from({ length: 4 }, (_, i) =>
      track({
        bus: new KafkaMessageBus({
          clientId: uniqueName(`race${i}`),
          brokers: kafkaBrokers,
          registry: testRegistry(topic, `${topic}.out`).registry,
          logger: silentLogger,
        }),
      }),
    );
    await Promise.all(
      racers.map(({ bus }) =>
        bus.ensureTopics([
          { topic, partitions: 3 },
          { topic: `${topic}.out`, partitions: 3 },
        ]),
      ),
    );
    const { ping } = testRegistry(topic, `${topic}.out`);
    await racers[0]!.bus.publish(topic, [ping({ key: 'k', seq: 1 })]);
    const seen: Envelope[] = [];
    await racers[1]!.bus.replay({ topics: [topic], handler: async (e) => void seen.push(e) });
    expect(seen).toHaveLength(1);
  });

  it('keeps per-key order under load across partitions', async () => {
    const s = track(setup('order'));
    await s.ready;
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const perKey = 100;
    const events: Envelope[] = [];
    for (let seq = 0; seq < perKey; seq += 1) for (const key of keys) events.push(s.ping({ key, seq }));
    for (let i = 0; i < events.length; i += 500) await s.bus.publish(s.topic, events.slice(i, i + 500));

    const seen = new Map<string, number[]>();
    consumers.push(
      await s.bus.consume({
        groupId: uniqueName('order'),
        topics: [s.topic],
        partitionsConsumedConcurrently: 3,
        handler: async (event) => {
          const { key, seq } = event.data as Ping;
          seen.set(key, [...(seen.get(key) ?? []), seq]);
        },
      }),
    );
    await consumers[0]!.whenCaughtUp({ timeoutMs: 60_000 });
    expect([...seen.keys()].sort()).toEqual([...keys].sort());
    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: perKey }, (_, i) => i));
  });

  it('loses nothing when a consumer process is killed mid-batch and restarted', async () => {
    const s = track(setup('kill', 2));
    await s.ready;
    const total = 3000;
    const events = Array.from({ length: total }, (_, seq) => s.ping({ key: `k${seq % 7}`, seq }));
    for (let i = 0; i < events.length; i += 500) await s.bus.publish(s.topic, events.slice(i, i + 500));

    const dir = mkdtempSync(join(tmpdir(), 'grantline-kill-'));
    const out = join(dir, 'handled.log');
    const group = uniqueName('kill');
    const handledLines = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    const start = (extraEnv: Record<string, string> = {}): ChildProcess =>
      spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../testing/consumer-process.ts')], {
        env: { ...process.env, KAFKA_BROKERS: kafkaBrokers.join(','), SPEC_TOPIC: s.topic, SPEC_GROUP: group, SPEC_OUT: out, ...extraEnv },
        stdio: ['ignore', 'ignore', 'inherit'],
      });

    // The first process stops making progress after 700 messages, so the kill lands mid-way on any machine.
    const first = start({ SPEC_HANG_AFTER: '700' });
    // Kill it while it is mid-way: some work done, not all.
    await eventually(() => expect(handledLines().length).toBeGreaterThan(200), { timeoutMs: 60_000 });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const handledBeforeKill = handledLines().length;
    expect(handledBeforeKill).toBeLessThan(total);

    const second = start();
    try {
      await eventually(
        () => {
          const handled = new Set(handledLines().map((line) => Number(line.split(':')[1])));
          expect(handled.size).toBe(total);
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
    } finally {
      second.kill('SIGTERM');
      await new Promise((resolve) => second.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters poison (not JSON, contract violations) with reason and origin, and the partition keeps flowing', async () => {
    const s = track(setup('poison', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 1 })]);
    await withRawProducer(kafkaBrokers, async (raw) => {
      await raw.send({ topic: s.topic, messages: [{ key: 'k', value: '{not json' }] });
      await raw.send({ topic: s.topic, messages: [{ key: 'k', value: JSON.stringify({ ...s.ping({ key: 'k', seq: 2 }), data: { key: '' } }) }] });
    });
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 3 }), s.ping({ key: 'k', seq: 4 })]);

    const handled: number[] = [];
    consumers.push(
      await s.bus.consume({
        groupId: uniqueName('poison'),
        topics: [s.topic],
        deadLetterTopic: s.deadLetterTopic,
        handler: async (event) => void handled.push((event.data as Ping).seq),
      }),
    );
    await consumers[0]!.whenCaughtUp();
    expect(handled).toEqual([1, 3, 4]);

    const dead = await readAll(s.bus, s.deadLetterTopic);
    const records = dead.map(
      (e) =>
        e.data as {
          origin: { topic: string; partition: number; offset: string; key: string };
          reason: string;
          errorClass: string;
          original: { sha256: string };
        },
    );
    expect(records.map((r) => r.origin)).toEqual([
      { topic: s.topic, partition: 0, offset: '1', key: 'k', timestamp: expect.any(String) },
      { topic: s.topic, partition: 0, offset: '2', key: 'k', timestamp: expect.any(String) },
    ]);
    expect(records[0]!.reason).toMatch(/undecodable/i);
    // A reference and a digest of the bytes, never a copy of them.
    expect(records[0]!.original.sha256).toBe(createHash('sha256').update('{not json').digest('hex'));
    expect(JSON.stringify(dead)).not.toContain('{not json');
    expect(records[1]!.reason).toMatch(/data\.key/);
    expect(records.map((r) => r.errorClass)).toEqual(['schema_invalid', 'schema_invalid']);
    expect(consumers[0]!.health()).toMatchObject({ ok: true, problems: [] });
    expect(s.bus.metrics()).toMatchObject({ deadLettered: 2, halted: 0 });
  });

  it('retries a failing handler with backoff past maxAttempts until it succeeds: handled once, nothing dead-lettered, committed only after the success', async () => {
    const s = track(setup('retry', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 1, note: 'flaky' }), s.ping({ key: 'k', seq: 2, note: 'down' })]);
    const group = uniqueName('retry');
    const attempts = new Map<number, number>();
    const handled: number[] = [];
    // What the group had committed while message 2 (offset 1) kept failing.
    const committedWhileFailing: string[] = [];
    consumers.push(
      await s.bus.consume({
        groupId: group,
        topics: [s.topic],
        deadLetterTopic: s.deadLetterTopic,
        // maxAttempts no longer bounds a consumer's retries: a handler is retried until it succeeds.
        retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
        handler: async (event, context) => {
          const data = event.data as Ping;
          attempts.set(data.seq, context.attempt);
          if (data.note === 'flaky' && context.attempt < 2) throw new RetriableError('target busy');
          if (data.note === 'down' && context.attempt <= 5) {
            committedWhileFailing.push((await committedOffsets(kafkaBrokers, group, s.topic)).get(0) ?? '-1');
            throw new Error('MongoNetworkError: connection reset');
          }
          handled.push(data.seq);
        },
      }),
    );
    await consumers[0]!.whenCaughtUp();
    expect(handled).toEqual([1, 2]);
    expect(attempts.get(1)).toBe(2);
    expect(attempts.get(2)).toBe(6);
    expect(committedWhileFailing).toHaveLength(5);
    for (const offset of committedWhileFailing) expect(BigInt(offset)).toBeLessThanOrEqual(1n);
    expect((await committedOffsets(kafkaBrokers, group, s.topic)).get(0)).toBe('2');
    expect(await readAll(s.bus, s.deadLetterTopic)).toEqual([]);
    expect(s.bus.metrics()).toMatchObject({ retried: 6, deadLettered: 0, handled: 2 });
  });

  it('replay from the beginning rebuilds the same state', async () => {
    const s = track(setup('replay'));
    await s.ready;
    const events = Array.from({ length: 300 }, (_, seq) => s.ping({ key: `acct-${seq % 13}`, seq }));
    await s.bus.publish(s.topic, events);
    const fold = (state: Map<string, number>, event: Envelope) => {
      const { key, seq } = event.data as Ping;
      state.set(key, (state.get(key) ?? 0) + seq);
    };
    const live = new Map<string, number>();
    consumers.push(await s.bus.consume({ groupId: uniqueName('live'), topics: [s.topic], handler: async (e) => fold(live, e) }));
    await consumers[0]!.whenCaughtUp();

    const rebuilt = new Map<string, number>();
    const count = await s.bus.replay({ topics: [s.topic], handler: async (e) => fold(rebuilt, e) });
    expect(count).toBe(300);
    expect(Object.fromEntries(rebuilt)).toEqual(Object.fromEntries(live));
    expect(live.size).toBe(13);
  });

  it('given two namespaces on one cluster, when both use the same logical topics and group, then neither sees the other', async () => {
    const topic = uniqueName('spec.ns');
    const events = testRegistry(topic, `${topic}.out`);
    const namespaces = [
      uniqueName('ns-a')
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-'),
      uniqueName('ns-b')
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-'),
    ];
    const [a, b] = namespaces.map(
      (namespace) =>
        track({
          bus: new KafkaMessageBus({ clientId: uniqueName('ns'), brokers: kafkaBrokers, registry: events.registry, logger: silentLogger, namespace }),
        }).bus,
    ) as [KafkaMessageBus, KafkaMessageBus];
    for (const bus of [a, b])
      await bus.ensureTopics([
        { topic, partitions: 2 },
        { topic: `${topic}.out`, partitions: 1 },
        { topic: `${topic}.dlq`, partitions: 1 },
      ]);
    await a.publish(topic, [events.ping({ key: 'k', seq: 1 })]);
    await withRawProducer(kafkaBrokers, (raw) => raw.send({ topic: `${namespaces[0]}.${topic}`, messages: [{ key: 'k', value: '{poison' }] }));
    await b.publish(topic, [events.ping({ key: 'k', seq: 10 })]);

    const group = uniqueName('same-group');
    const seen = new Map<KafkaMessageBus, { seq: number; topic: string; groupId: string }[]>([
      [a, []],
      [b, []],
    ]);
    for (const bus of [a, b]) {
      consumers.push(
        await bus.consume({
          groupId: group,
          topics: [topic],
          transactional: true,
          deadLetterTopic: `${topic}.dlq`,
          handler: async (event, context) => {
            const data = event.data as Ping;
            seen.get(bus)?.push({ seq: data.seq, topic: context.topic, groupId: context.groupId });
            return [{ topic: `${topic}.out`, events: [pong(events, event, data)] }];
          },
        }),
      );
    }
    await Promise.all(consumers.map((consumer) => consumer.whenCaughtUp()));
    // Handlers see the catalogue's names, never the namespace.
    expect(seen.get(a)).toEqual([{ seq: 1, topic, groupId: group }]);
    expect(seen.get(b)).toEqual([{ seq: 10, topic, groupId: group }]);
    // Transactional outputs become readable once their commit markers land, a moment after the offsets moved.
    await eventually(
      async () => {
        expect((await readAll(a, `${topic}.out`)).map((e) => (e.data as Ping).seq)).toEqual([1]);
        expect((await readAll(b, `${topic}.out`)).map((e) => (e.data as Ping).seq)).toEqual([10]);
        const deadLetters = await readAll(a, `${topic}.dlq`);
        expect(deadLetters.map((e) => (e.data as { origin: { topic: string } }).origin.topic)).toEqual([topic]);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(await readAll(b, `${topic}.dlq`)).toEqual([]);

    expect(await a.listTopics()).toEqual([topic, `${topic}.dlq`, `${topic}.out`]);
    // On the cluster every name carries its namespace: nothing was created under the bare name.
    const admin = new Kafka({ clientId: uniqueName('ns-admin'), brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).admin();
    await admin.connect();
    try {
      const onCluster = await admin.listTopics();
      expect(onCluster).toEqual(expect.arrayContaining(namespaces.map((namespace) => `${namespace}.${topic}`)));
      expect(onCluster).not.toContain(topic);
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(groups).toEqual(expect.arrayContaining(namespaces.map((namespace) => `${namespace}.${group}`)));
      expect(groups).not.toContain(group);
    } finally {
      await admin.disconnect();
    }
  });

  it('given a finished namespace, when it is deleted, then its topics and groups are gone and another namespace keeps its own', async () => {
    const topic = uniqueName('spec.gone');
    const events = testRegistry(topic, `${topic}.out`);
    const namespaces = [uniqueName('ns-gone'), uniqueName('ns-kept')].map((name) => name.toLowerCase().replace(/[^a-z0-9-]/g, '-'));
    const [doomed, kept] = namespaces.map(
      (namespace) =>
        track({
          bus: new KafkaMessageBus({ clientId: uniqueName('ns'), brokers: kafkaBrokers, registry: events.registry, logger: silentLogger, namespace }),
        }).bus,
    ) as [KafkaMessageBus, KafkaMessageBus];
    for (const bus of [doomed, kept]) {
      await bus.ensureTopics([
        { topic, partitions: 2 },
        { topic: `${topic}.out`, partitions: 1 },
      ]);
      await bus.publish(topic, [events.ping({ key: 'k', seq: 1 })]);
      const consumer = await bus.consume({ groupId: 'finished', topics: [topic], handler: async () => [] });
      await consumer.whenCaughtUp();
      await consumer.stop();
    }

    expect(await doomed.deleteNamespace()).toEqual({ topics: 2, groups: 1 });

    await eventually(async () => expect(await doomed.listTopics()).toEqual([]), { timeoutMs: 30_000, intervalMs: 200 });
    expect(await kept.listTopics()).toEqual([topic, `${topic}.out`]);
    const admin = new Kafka({ clientId: uniqueName('ns-admin'), brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING, ...kafkajsSaslFromEnv() }).admin();
    await admin.connect();
    try {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(groups).not.toContain(`${namespaces[0]}.finished`);
      expect(groups).toContain(`${namespaces[1]}.finished`);
    } finally {
      await admin.disconnect();
    }
    const bare = track({
      bus: new KafkaMessageBus({ clientId: uniqueName('bare'), brokers: kafkaBrokers, registry: events.registry, logger: silentLogger }),
    }).bus;
    await expect(bare.deleteNamespace()).rejects.toThrow(/no namespace; refusing/);
    await kept.deleteNamespace();
  });

  it('a redelivered message produces no second output (dedup + deterministic ids, transactional)', async () => {
    const s = track(setup('redeliver', 1));
    await s.ready;
    const original = s.ping({ key: 'req-1', seq: 7 }, 'event-fixed-id');
    // The same event twice: a producer retry or an upstream re-send.
    await s.bus.publish(s.topic, [original, original, s.ping({ key: 'req-2', seq: 8 }, 'event-other-id')]);

    const respond = async (event: Envelope): Promise<HandlerOutput[]> => {
      const data = event.data as Ping;
      const output = pong(s, event, data);
      return [{ topic: s.outTopic, events: [output] }];
    };
    const consumer = await s.bus.consume({
      groupId: uniqueName('redeliver'),
      topics: [s.topic],
      transactional: true,
      dedup: new InMemoryDedupStore(),
      handler: respond,
    });
    consumers.push(consumer);
    await consumer.whenCaughtUp();
    await eventually(
      async () => {
        const outputs = await readAll(s.bus, s.outTopic);
        expect(outputs.map((e) => e.causationid).sort()).toEqual(['event-fixed-id', 'event-other-id']);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(s.bus.metrics().duplicatesDropped).toBeGreaterThanOrEqual(1);

    // A second, independent processing of the same input (another instance after a crash)
    // derives the very same output id, so downstream deduplication collapses it.
    const again = await s.bus.consume({ groupId: uniqueName('redeliver-again'), topics: [s.topic], transactional: true, handler: respond });
    consumers.push(again);
    await again.whenCaughtUp();
    await eventually(
      async () => {
        const all = await readAll(s.bus, s.outTopic);
        expect(all).toHaveLength(5);
        expect(new Set(all.map((e) => e.id)).size).toBe(2);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
  });

  it('a message whose transaction failed is handled again on redelivery, not dropped as a duplicate', async () => {
    const s = track(setup('txfail', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'req-9', seq: 9 }, 'event-once')]);
    let calls = 0;
    const consumer = await s.bus.consume({
      groupId: uniqueName('txfail'),
      topics: [s.topic],
      transactional: true,
      dedup: new InMemoryDedupStore(),
      handler: async (event) => {
        calls += 1;
        const data = event.data as Ping;
        // First attempt: an output larger than the broker accepts, so the transaction aborts.
        const note = calls === 1 ? 'x'.repeat(2_000_000) : 'ok';
        const output = pong(s, event, { ...data, note });
        return [{ topic: s.outTopic, events: [output] }];
      },
    });
    consumers.push(consumer);
    await eventually(
      async () => {
        const outputs = await readAll(s.bus, s.outTopic);
        expect(outputs.map((e) => [e.causationid, (e.data as Ping).note])).toEqual([['event-once', 'ok']]);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(calls).toBe(2);
    expect(s.bus.metrics().commitFailures).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('commits transactions of partitions processed concurrently, each output exactly once', async () => {
    const s = track(setup('txconc', 3));
    await s.ready;
    const inputs = Array.from({ length: 300 }, (_, seq) => s.ping({ key: `req-${seq % 17}`, seq }));
    await s.bus.publish(s.topic, inputs);
    const consumer = await s.bus.consume({
      groupId: uniqueName('txconc'),
      topics: [s.topic],
      transactional: true,
      partitionsConsumedConcurrently: 3,
      handler: async (event) => [
        {
          topic: s.outTopic,
          events: [pong(s, event, event.data as Ping)],
        },
      ],
    });
    consumers.push(consumer);
    await consumer.whenCaughtUp({ timeoutMs: 90_000 });
    // Commit markers reach the partitions shortly after the transaction commits: wait for them.
    await eventually(
      async () => {
        const outputs = await readAll(s.bus, s.outTopic);
        expect(new Set(outputs.map((e) => e.causationid)).size).toBe(300);
        expect(outputs).toHaveLength(300);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
  }, 120_000);

  it('keeps group membership through a handler longer than the session timeout', async () => {
    const s = track(setup('long', 1));
    await s.ready;
    await s.bus.publish(s.topic, [s.ping({ key: 'k', seq: 1 }), s.ping({ key: 'k', seq: 2 })]);
    const calls: number[] = [];
    const consumer = await s.bus.consume({
      groupId: uniqueName('long'),
      topics: [s.topic],
      handler: async (event) => {
        const { seq } = event.data as Ping;
        calls.push(seq);
        // Simulated slow target system: longer than the 10 s session timeout.
        if (seq === 1) await new Promise((resolve) => setTimeout(resolve, 12_000));
      },
    });
    consumers.push(consumer);
    await consumer.whenCaughtUp({ timeoutMs: 40_000 });
    // A lost membership would have re-delivered message 1 to the re-joined member.
    expect(calls).toEqual([1, 2]);
  }, 60_000);
});
