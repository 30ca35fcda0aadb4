import { z } from 'zod';
import { TOPICS, createCatalogueRegistry, defineEvent } from '@grantline/contracts';
import type { Envelope, EventRegistry, TopicName } from '@grantline/contracts';
import { InMemoryDedupStore, KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { RunningConsumer } from '@grantline/messaging';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { kafkaSettings, openBus } from '../connection';
import { bufferedOutput } from '../output';
import { DeadLetterQueue } from './dead-letter-queue';
import { EXIT, dlqList, dlqRedrive, dlqShow } from './dlq-commands';

const { kafkaBrokers } = infraEndpoints();
const SECRET = 'tok_live_9f8e7d-S3cret-value';
const INBOUND = TOPICS.itsmInbound;
/** A type the upstream sends before this release knew it: the consumers dead-letter it (an upstream topic). */
const Noted = defineEvent('iga.cli-spec.noted', 1, INBOUND as TopicName, z.strictObject({ key: z.string().min(1) }));

const envelope = (id: string, data: Record<string, unknown>): Envelope => ({
  specversion: '1.0',
  id,
  source: 'spec/upstream',
  type: Noted.type,
  time: new Date().toISOString(),
  subject: String(data['key']),
  correlationid: `corr-${id}`,
  actor: { kind: 'service', id: 'upstream' },
  data,
});

describe('grantline dlq on the real broker: list, fix, re-drive, handled exactly once', () => {
  const namespace = uniqueName('cli-dlq').replace(/_/g, '-');
  const settings = kafkaSettings({ KAFKA_BROKERS: kafkaBrokers.join(','), KAFKA_TOPIC_NAMESPACE: namespace });
  const group = 'cli-spec-intake';
  const buses: KafkaMessageBus[] = [];
  const consumers: RunningConsumer[] = [];
  const bus = (registry: EventRegistry, name: string): KafkaMessageBus => {
    const created = new KafkaMessageBus({ clientId: uniqueName(name), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    buses.push(created);
    return created;
  };
  const cli = (registry: EventRegistry): DeadLetterQueue => {
    const opened = openBus(settings, registry);
    buses.push(opened);
    return new DeadLetterQueue(opened, { registry, operator: 'spec-operator' });
  };
  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await buses[0]?.deleteNamespace();
    await Promise.all(buses.map((b) => b.disconnect()));
  });

  it('given a record of a type the consumers did not know, when this release knows it and an operator re-drives it, then the consumer handles it once', async () => {
    const before = createCatalogueRegistry();
    const upstream = bus(before, 'cli-upstream');
    await upstream.ensureTopics([
      { topic: INBOUND, partitions: 2 },
      { topic: TOPICS.deadLetter, partitions: 1 },
    ]);
    await upstream.publish(INBOUND, [envelope('evt-fixable', { key: 'RITM1' }), envelope('evt-still-broken', { key: 'RITM2', token: SECRET })]);

    // The consumer of the old release refuses both (unknown type on an upstream topic: poison) and moves on.
    const handledBefore: string[] = [];
    const old = await bus(before, 'cli-old').consume({ groupId: group, topics: [INBOUND], handler: async (event) => void handledBefore.push(event.id) });
    await old.whenCaughtUp();
    await old.stop();
    expect(handledBefore).toEqual([]);

    // list: both, by reference; redrive with the old release's registry: refused, the type is still unknown.
    const unfixed = bufferedOutput();
    expect(await dlqList(cli(before), {}, unfixed)).toBe(EXIT.ok);
    const lines = unfixed.stdout().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toMatch(new RegExp(`^${INBOUND}/\\d@\\d+ {2}iga\\.cli-spec\\.noted\\.v1 {2}unknown_type: .*group=${group} {2}id=`, 'm'));
    const ids = lines.map((line) => /id=(\S+)$/.exec(line)?.[1] ?? '');
    const refusedNow = bufferedOutput();
    expect(await dlqRedrive(cli(before), [], { all: true }, refusedNow)).toBe(EXIT.refused);
    expect(refusedNow.stdout()).toMatch(/0 re-driven, 2 refused/);

    // The fix: this release knows the type. show reads the original back by reference, redacted.
    const fixed = createCatalogueRegistry().register(Noted);
    const queue = cli(fixed);
    const { entries } = await queue.list();
    const fixable = entries.find((entry) => entry.data.event?.id === 'evt-fixable');
    const broken = entries.find((entry) => entry.data.event?.id === 'evt-still-broken');
    expect([fixable?.id, broken?.id].sort()).toEqual([...ids].sort());
    const shown = bufferedOutput();
    expect(await dlqShow(queue, broken?.id ?? '', {}, shown)).toBe(EXIT.ok);
    expect(shown.stdout()).toMatch(/does not validate with this release: .*data\.token: (Unrecognized key|Secret field)/);
    expect(shown.stdout()).toContain('"token": "[redacted]"');
    expect(shown.stdout()).not.toContain(SECRET);

    // Re-drive all: the fixable one goes back to its topic, the broken one is refused; neither twice.
    const redriven = bufferedOutput();
    expect(await dlqRedrive(queue, [], { all: true }, redriven)).toBe(EXIT.refused);
    expect(redriven.stdout()).toMatch(
      new RegExp(`republished +${fixable?.id} .*republished iga\\.cli-spec\\.noted\\.v1 evt-fixable to ${INBOUND.replace(/\./g, '\\.')}`),
    );
    expect(redriven.stdout()).toMatch(/1 re-driven, 1 refused/);
    const again = bufferedOutput();
    expect(await dlqRedrive(cli(fixed), [fixable?.id ?? ''], {}, again)).toBe(EXIT.ok);
    expect(again.stdout()).toMatch(/already-republished .*already re-driven at .* by spec-operator/);
    const remaining = bufferedOutput();
    await dlqList(cli(fixed), {}, remaining);
    expect(remaining.stdout()).toContain(`id=${broken?.id}`);
    expect(remaining.stdout()).not.toContain(`id=${fixable?.id}`);

    // The same group, on the release that knows the type, resumes past the poison and handles the re-drive once.
    const handled: string[] = [];
    const upgraded = await bus(fixed, 'cli-upgraded').consume({
      groupId: group,
      topics: [INBOUND],
      dedup: new InMemoryDedupStore(),
      handler: async (event) => void handled.push(event.id),
    });
    consumers.push(upgraded);
    await upgraded.whenCaughtUp();
    expect(handled).toEqual(['evt-fixable']);
    expect(upgraded.health()).toMatchObject({ ok: true, problems: [] });
  });
});
