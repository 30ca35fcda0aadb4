import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EventRegistry, TOPICS, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { Envelope, TopicName } from '@grantline/contracts';
import type { ConsumedRecord } from '../consumed-record';
import { ConsumerHealthTracker } from '../consumer-health';
import { newCounters } from '../counters';
import { DEAD_LETTERED_EVENT } from '../dead-letter';
import type { MessagingLogger } from '../logger';
import { MessageHandler } from '../message-handler';

/** What a poison message may carry and a dead letter must never repeat. */
const SECRET = 'pa55-W0rd!hunter2-0xDEADBEEF';
const TOPIC = 'spec.secrets.in';

// A schema whose custom message quotes the value it refuses: the dead letter must still not repeat it.
const Login = z.strictObject({ user: z.string(), pin: z.string().refine(() => false, { error: (issue) => `pin ${String(issue.input)} is not a pin` }) });

function setup() {
  const login = defineEvent('iga.spec.logged-in', 1, TOPIC as TopicName, Login);
  const registry = new EventRegistry().register(login).register(catalogue.latestOf(DEAD_LETTERED_EVENT));
  const logged: unknown[] = [];
  const log = (message: string, fields?: Record<string, unknown>): void => void logged.push({ message, fields });
  const logger: MessagingLogger = { debug: log, info: log, warn: log, error: log };
  const handler = jest.fn();
  const messages = new MessageHandler({
    registry,
    options: { groupId: 'secrets', handler },
    deadLetterTopic: 'spec.secrets.dlq',
    retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
    source: 'grantline/spec',
    logger,
    counters: newCounters(),
    health: new ConsumerHealthTracker('secrets'),
  });
  const scope = { heartbeat: async () => undefined, signal: new AbortController().signal, handledInBatch: [] as string[] };
  const envelope = (data: unknown, type = 'iga.spec.logged-in.v1'): string =>
    JSON.stringify({
      specversion: '1.0',
      id: 'evt-secret-1',
      source: 'spec',
      type,
      time: new Date(0).toISOString(),
      subject: 'alice',
      correlationid: 'c-1',
      actor: { kind: 'user', id: 'alice' },
      data,
    });
  const deadLetterOf = async (value: string, topic = TOPIC): Promise<Envelope> => {
    const record: ConsumedRecord = { origin: { topic, partition: 2, offset: '17', key: 'alice' }, value: Buffer.from(value), timestamp: '1700000000000' };
    const outcome = await messages.handle(record, scope);
    if (outcome.kind !== 'skipped' || outcome.outputs[0]?.events[0] === undefined) throw new Error(`not dead-lettered: ${JSON.stringify(outcome)}`);
    return outcome.outputs[0].events[0];
  };
  return { deadLetterOf, envelope, logged, handler };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('a poison message carrying a secret, dead-lettered', () => {
  it.each([
    [
      'a secret-named field the contract refuses',
      (e: (d: unknown) => string) => e({ user: 'alice', pin: '1234', password: SECRET }),
      'data.password',
      'Unrecognized key',
    ],
    [
      'a secret in a field of the wrong type',
      (e: (d: unknown) => string) => e({ user: 'alice', pin: { value: SECRET } }),
      'data.pin',
      expect.stringMatching(/expected string/),
    ],
    ['a custom message quoting the refused value', (e: (d: unknown) => string) => e({ user: 'alice', pin: SECRET }), 'data.pin', 'pin [redacted] is not a pin'],
  ])('given %s, then the dead letter names the field and why, never the value', async (_case, poison, path, message) => {
    const s = setup();
    const value = poison(s.envelope);

    const dead = await s.deadLetterOf(value);

    expect(dead.data).toEqual({
      origin: { topic: TOPIC, partition: 2, offset: '17', key: 'alice', timestamp: '2023-11-14T22:13:20.000Z' },
      event: { id: 'evt-secret-1', type: 'iga.spec.logged-in.v1' },
      original: { sha256: sha256(value), sizeBytes: Buffer.byteLength(value) },
      reason: expect.stringMatching(/^undecodable message: ContractViolationError: iga\.spec\.logged-in\.v1 is invalid/),
      issues: expect.arrayContaining([{ path, message }]),
      errorClass: 'schema_invalid',
      failedAt: expect.any(String),
      attempts: 1,
      consumerGroup: 'secrets',
    });
    expect(JSON.stringify(dead)).not.toContain(SECRET);
    expect(JSON.stringify(s.logged)).not.toContain(SECRET);
    expect(s.handler).not.toHaveBeenCalled();
  });

  it('given bytes that are not JSON around a secret, then neither the dead letter nor the log quotes them', async () => {
    const s = setup();
    const value = `{"password":"${SECRET}" oops`;

    const dead = await s.deadLetterOf(value);

    expect(dead.data).toMatchObject({ reason: 'undecodable message: SyntaxError: value is not valid JSON', issues: [], original: { sha256: sha256(value) } });
    expect(dead.data).not.toHaveProperty('event');
    expect(JSON.stringify(dead)).not.toContain(SECRET);
    expect(JSON.stringify(s.logged)).not.toContain(SECRET);
  });

  it('given an unknown type on the upstream ITSM topic with a secret in its data, then the dead letter keeps the type, not the data', async () => {
    const s = setup();

    const dead = await s.deadLetterOf(s.envelope({ apiKey: SECRET }, 'iga.spec.unheard-of.v3'), TOPICS.itsmInbound);

    expect(dead.data).toMatchObject({
      errorClass: 'unknown_type',
      event: { type: 'iga.spec.unheard-of.v3' },
      reason: expect.stringContaining('iga.spec.unheard-of.v3'),
    });
    expect(JSON.stringify(dead)).not.toContain(SECRET);
  });
});
