import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EventRegistry, TOPICS, defineEvent } from '@grantline/contracts';
import type { Envelope, TopicName } from '@grantline/contracts';
import type { ConsumedRecord } from './consumed-record';
import { ConsumerHealthTracker } from './consumer-health';
import { newCounters } from './counters';
import { InMemoryDedupStore } from './dedup';
import { TerminalError } from './errors';
import type { MessagingLogger } from './logger';
import { MessageHandler } from './message-handler';
import type { EventHandler } from './ports';
import { testRegistry } from './testing/test-events';

const TOPIC = 'spec.handler.in';

function setup(handler: EventHandler, options: { dedup?: InMemoryDedupStore } = {}) {
  const events = testRegistry(TOPIC, `${TOPIC}.out`);
  const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void logged.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: MessagingLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const counters = newCounters();
  const health = new ConsumerHealthTracker('group-1');
  const waits: number[] = [];
  const messages = new MessageHandler({
    registry: events.registry,
    options: { groupId: 'group-1', handler, ...(options.dedup ? { dedup: options.dedup } : {}) },
    deadLetterTopic: 'spec.handler.dlq',
    retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 40 },
    source: 'grantline/spec',
    logger,
    counters,
    health,
    wait: async (ms) => void waits.push(ms),
  });
  const stop = new AbortController();
  const scope = { heartbeat: async () => undefined, signal: stop.signal, handledInBatch: [] as string[] };
  const record = (value: string | Envelope, topic = TOPIC, offset = '4'): ConsumedRecord => ({
    origin: { topic, partition: 1, offset, key: 'k' },
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  });
  return { ...events, messages, scope, stop, record, logged, counters, health, waits };
}

const future = defineEvent('iga.spec.future', 2, TOPIC as TopicName, z.strictObject({ at: z.string() }));
function futureEvent(): Envelope {
  const meta = {
    id: 'future-1',
    source: 'grantline/spec',
    time: new Date(0).toISOString(),
    subject: 'k',
    correlationid: 'k',
    actor: { kind: 'system' as const, id: 'spec' },
  };
  return new EventRegistry().register(future).encode(future, { at: 'later' }, meta);
}

describe('MessageHandler', () => {
  it('given a valid event, then the handler runs once and its outputs are returned', async () => {
    const s = setup(async () => [{ topic: 'out', events: [] }]);
    const outcome = await s.messages.handle(s.record(s.ping({ key: 'k', seq: 1 }, 'e-1')), s.scope);
    expect(outcome).toEqual({ kind: 'handled', outputs: [{ topic: 'out', events: [] }], eventId: 'e-1' });
    expect(s.counters.handled).toBe(1);
  });

  it('given bytes that are not JSON, then a dead-letter record naming the origin is the only output', async () => {
    const handler = jest.fn();
    const s = setup(handler);
    const outcome = await s.messages.handle(s.record('{not json'), s.scope);
    expect(handler).not.toHaveBeenCalled();
    expect(outcome.kind).toBe('skipped');
    const outputs = outcome.kind === 'skipped' ? outcome.outputs : [];
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.topic).toBe('spec.handler.dlq');
    expect(outputs[0]!.events[0]!.data).toMatchObject({
      origin: { topic: TOPIC, partition: 1, offset: '4', key: 'k' },
      errorClass: 'schema_invalid',
      original: { sha256: createHash('sha256').update('{not json').digest('hex'), sizeBytes: 9 },
    });
    expect(s.counters.deadLettered).toBe(1);
  });

  it('given an event type this registry does not know on a Grantline topic, then it halts without running the handler', async () => {
    const handler = jest.fn();
    const s = setup(handler);
    expect(await s.messages.handle(s.record(futureEvent()), s.scope)).toEqual({
      kind: 'halt',
      eventType: 'iga.spec.future.v2',
      reason: expect.stringMatching(/unknown to this service/),
    });
    expect(handler).not.toHaveBeenCalled();
    expect(s.counters.deadLettered).toBe(0);
  });

  it('given an unknown event type on the upstream-written ITSM topic, then it is dead-lettered as unknown_type', async () => {
    const s = setup(jest.fn());
    const outcome = await s.messages.handle(s.record(futureEvent(), TOPICS.itsmInbound), s.scope);
    expect(outcome.kind === 'skipped' ? outcome.outputs[0]!.events[0]!.data : undefined).toMatchObject({
      errorClass: 'unknown_type',
      origin: { topic: TOPICS.itsmInbound },
    });
  });

  it('given a handler throwing TerminalError and then succeeding, then it was retried (logged as an error), never dead-lettered', async () => {
    let calls = 0;
    const s = setup(async (_event, context) => {
      calls += 1;
      if (context.attempt < 4) throw new TerminalError('entitlement unknown to the catalogue');
    });
    const outcome = await s.messages.handle(s.record(s.ping({ key: 'k', seq: 1 }, 'e-1')), s.scope);
    expect(outcome).toMatchObject({ kind: 'handled', outputs: [] });
    expect(calls).toBe(4);
    expect(s.counters).toMatchObject({ retried: 3, deadLettered: 0, handled: 1 });
    expect(s.waits).toHaveLength(3);
    expect(s.logged.filter((l) => l.level === 'error').map((l) => l.fields?.['errorClass'])).toEqual(['terminal', 'terminal', 'terminal']);
    expect(s.health.health().ok).toBe(true);
  });

  it('given a handler that keeps failing, when the consumer stops, then the outcome is interrupted and nothing is dead-lettered', async () => {
    const s = setup(async (_event, context) => {
      if (context.attempt === 3) s.stop.abort();
      throw new Error('MongoNetworkError: connection reset');
    });
    expect(await s.messages.handle(s.record(s.ping({ key: 'k', seq: 1 })), s.scope)).toEqual({ kind: 'interrupted' });
    expect(s.counters).toMatchObject({ retried: 2, deadLettered: 0, handled: 0 });
  });

  it('given a duplicate of an event already handled, then it is skipped without the handler', async () => {
    const dedup = new InMemoryDedupStore();
    await dedup.remember('group-1', 'e-1');
    const handler = jest.fn();
    const s = setup(handler, { dedup });
    expect(await s.messages.handle(s.record(s.ping({ key: 'k', seq: 1 }, 'e-1')), s.scope)).toEqual({ kind: 'skipped', outputs: [] });
    expect(handler).not.toHaveBeenCalled();
    expect(s.counters.duplicatesDropped).toBe(1);
  });
});
