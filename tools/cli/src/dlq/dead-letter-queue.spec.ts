import { z } from 'zod';
import { ContractViolationError, TOPICS, UnknownEventTypeError, createCatalogueRegistry, defineEvent } from '@grantline/contracts';
import type { Envelope, EventRegistry, TopicName } from '@grantline/contracts';
import { buildDeadLetter, safeReason } from '@grantline/messaging';
import type { EventPublisher, LogRecord, RecordRef, ReplayOptions } from '@grantline/messaging';
import { DeadLetterQueue } from './dead-letter-queue';
import type { DlqBus } from './dead-letter-queue';

const SECRET = 'Sup3r-S3cret-pa55';
const INBOUND = TOPICS.itsmInbound;
const Noted = defineEvent('iga.spec.noted', 1, INBOUND as TopicName, z.strictObject({ key: z.string().min(1) }));

/** The registry of this release: it knows `iga.spec.noted.v1` (the fix); the consumers that refused it did not. */
const current = (): EventRegistry => createCatalogueRegistry().register(Noted);

const envelope = (id: string, data: unknown): Record<string, unknown> => ({
  specversion: '1.0',
  id,
  source: 'spec/upstream',
  type: Noted.type,
  time: '2025-06-02T10:00:00.000Z',
  subject: 'k',
  correlationid: `corr-${id}`,
  actor: { kind: 'service', id: 'upstream' },
  data,
});

/** A log in memory: what replay reads, what readRecords reads back, where publishes land. */
class FakeLog implements DlqBus {
  readonly topics = new Map<string, LogRecord[]>();
  readonly published: { topic: string; events: readonly Envelope[] }[] = [];
  readonly publisher: EventPublisher = {
    publish: async (topic, events) => {
      this.published.push({ topic, events });
      for (const event of events) this.append(topic, 'k', JSON.stringify(event));
    },
  };

  constructor(private readonly registry: EventRegistry) {}

  append(topic: string, key: string | null, value: string): RecordRef {
    const records = this.topics.get(topic) ?? [];
    const record = { topic, partition: 0, offset: String(records.length), key, value: Buffer.from(value), timestamp: '2025-06-02T10:00:00.000Z' };
    this.topics.set(topic, [...records, record]);
    return record;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  async replay(options: ReplayOptions): Promise<number> {
    let handled = 0;
    for (const topic of options.topics) {
      for (const record of this.topics.get(topic) ?? []) {
        try {
          const event = this.registry.decode(JSON.parse(record.value?.toString('utf8') ?? ''));
          await options.handler(event, record);
          handled += 1;
        } catch (error) {
          options.onInvalid?.(error, record);
        }
      }
    }
    return handled;
  }

  async readRecords(refs: readonly RecordRef[]): Promise<(LogRecord | undefined)[]> {
    return refs.map((ref) => this.topics.get(ref.topic)?.[Number(ref.offset)]);
  }

  /** What a consumer of `group` with a registry lacking `iga.spec.noted.v1` did with the record at `ref`. */
  deadLetter(ref: RecordRef, group: string): Envelope {
    const value = this.topics.get(ref.topic)?.[Number(ref.offset)]?.value ?? null;
    const raw: unknown = JSON.parse(value?.toString('utf8') ?? '');
    const strict = (raw as { data: Record<string, unknown> }).data['password'] !== undefined;
    const error = strict
      ? new ContractViolationError([{ path: 'data.password', message: 'Unrecognized key' }], Noted.type)
      : new UnknownEventTypeError(Noted.type);
    const dead = buildDeadLetter(this.registry, {
      origin: { ...ref, key: 'k' },
      timestamp: '1748858400000',
      consumerGroup: group,
      reason: safeReason(`undecodable message: ${error.name}: ${error.message}`, raw),
      errorClass: strict ? 'schema_invalid' : 'unknown_type',
      attempts: 1,
      value,
      error,
      raw,
      failedAt: new Date('2025-06-02T10:00:01.000Z'),
      source: `grantline/${group}`,
    });
    this.append(TOPICS.deadLetter, dead.subject, JSON.stringify(dead));
    return dead;
  }
}

function setup() {
  const registry = current();
  const log = new FakeLog(registry);
  const queue = new DeadLetterQueue(log, { registry, operator: 'olga', now: () => new Date('2025-06-03T08:00:00.000Z') });
  const fixable = log.append(INBOUND, 'k', JSON.stringify(envelope('evt-fixable', { key: 'k' })));
  const broken = log.append(INBOUND, 'k', JSON.stringify(envelope('evt-broken', { key: 'k', password: SECRET })));
  const byIntake = log.deadLetter(fixable, 'intake');
  const byAudit = log.deadLetter(fixable, 'audit');
  const brokenDead = log.deadLetter(broken, 'intake');
  return { registry, log, queue, fixable, broken, byIntake, byAudit, brokenDead };
}

describe('DeadLetterQueue (grantline dlq) over a log in memory', () => {
  it('lists every dead letter not re-driven yet, with its reference and reason, filtered by origin topic and time', async () => {
    const s = setup();

    const { entries } = await s.queue.list();

    expect(entries.map((entry) => [entry.id, entry.data.consumerGroup, entry.data.origin.offset, entry.data.event?.type, entry.data.errorClass])).toEqual([
      [s.byIntake.id, 'intake', '0', Noted.type, 'unknown_type'],
      [s.byAudit.id, 'audit', '0', Noted.type, 'unknown_type'],
      [s.brokenDead.id, 'intake', '1', Noted.type, 'schema_invalid'],
    ]);
    expect((await s.queue.list({ originTopic: TOPICS.requests })).entries).toEqual([]);
    expect((await s.queue.list({ since: new Date('2025-06-02T10:00:02.000Z') })).entries).toEqual([]);
  });

  it('shows a dead letter with its original read back by reference, decoded now, and redacted', async () => {
    const s = setup();

    const shown = await s.queue.show(s.brokenDead.id);

    expect(shown?.entry.data.issues).toEqual([{ path: 'data.password', message: 'Unrecognized key' }]);
    expect(shown?.original).toMatchObject({
      state: 'refused',
      why: expect.stringMatching(/does not validate with this release: ContractViolationError: .*data\.password: Unrecognized key/),
    });
    expect(shown?.original.state === 'refused' ? shown.original.shown : undefined).toMatchObject({
      id: 'evt-broken',
      data: { key: 'k', password: '[redacted]' },
    });
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(await s.queue.show('no-such-id')).toBeUndefined();
  });

  it('re-drives an original this release validates: published unchanged to its topic, recorded once for every group that refused it', async () => {
    const s = setup();

    const outcomes = await s.queue.redrive({ ids: [s.byIntake.id] });

    expect(outcomes).toEqual([
      { id: s.byIntake.id, status: 'republished', origin: `${INBOUND}/0@0`, message: `republished ${Noted.type} evt-fixable to ${INBOUND}` },
    ]);
    const [republished, record] = s.log.published;
    expect(republished).toEqual({ topic: INBOUND, events: [envelope('evt-fixable', { key: 'k' })] });
    expect(record?.topic).toBe(TOPICS.deadLetter);
    expect(record?.events[0]).toMatchObject({
      type: 'iga.messaging.dead-letter-republished.v1',
      actor: { kind: 'user', id: 'olga' },
      causationid: s.byIntake.id,
      correlationid: 'corr-evt-fixable',
      data: {
        deadLetterIds: [s.byIntake.id, s.byAudit.id],
        origin: { topic: INBOUND, offset: '0' },
        event: { id: 'evt-fixable', type: Noted.type },
        republishedAt: '2025-06-03T08:00:00.000Z',
      },
    });
    // Both groups' dead letters of that record are settled: hidden from list, never re-driven again.
    expect((await s.queue.list()).entries.map((entry) => entry.id)).toEqual([s.brokenDead.id]);
    expect(await s.queue.redrive({ ids: [s.byAudit.id] })).toEqual([
      expect.objectContaining({ status: 'already-republished', message: expect.stringMatching(/^already re-driven at 2025-06-03T08:00:00.000Z by olga/) }),
    ]);
    expect(s.log.published).toHaveLength(2);
  });

  it('refuses, with the reason, an original that still does not validate, and publishes nothing', async () => {
    const s = setup();

    const [outcome] = await s.queue.redrive({ ids: [s.brokenDead.id] });

    expect(outcome).toMatchObject({
      status: 'refused',
      message: expect.stringMatching(/^not re-driven: does not validate with this release: ContractViolationError: .*data\.password: Unrecognized key$/),
    });
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
    expect(s.log.published).toEqual([]);
  });

  it('given --all with a dry run, then it says what would happen per origin and publishes nothing; then --all re-drives what it can', async () => {
    const s = setup();
    const progress: string[] = [];

    const dry = await s.queue.redrive({ all: true }, { dryRun: true, onProgress: (done, total) => void progress.push(`${done}/${total}`) });

    expect(dry.map((outcome) => [outcome.id, outcome.status])).toEqual([
      [s.byIntake.id, 'would-republish'],
      [s.byAudit.id, 'would-republish'],
      [s.brokenDead.id, 'refused'],
    ]);
    expect(progress).toEqual(['0/2', '1/2', '2/2']);
    expect(s.log.published).toEqual([]);

    const done = await s.queue.redrive({ all: true });
    expect(done.map((outcome) => outcome.status)).toEqual(['republished', 'republished', 'refused']);
    expect(s.log.published.map((p) => p.topic)).toEqual([INBOUND, TOPICS.deadLetter]);
  });

  it('refuses an original that is gone from the log or is not the record refused (another SHA-256), and an unknown id', async () => {
    const s = setup();
    const records = s.log.topics.get(INBOUND) ?? [];
    s.log.topics.set(INBOUND, [{ ...(records[0] as LogRecord), value: Buffer.from(JSON.stringify(envelope('evt-other', { key: 'k' }))) }]);

    const outcomes = await s.queue.redrive({ ids: [s.byIntake.id, s.brokenDead.id, 'nope'] });

    expect(outcomes.map((outcome) => [outcome.status, outcome.message])).toEqual([
      ['unknown', 'no such dead letter on the dead-letter topics'],
      ['refused', expect.stringMatching(/not the one dead-lettered \(its SHA-256 differs\)/)],
      ['refused', expect.stringMatching(/no longer on the log/)],
    ]);
    expect(s.log.published).toEqual([]);
  });
});
