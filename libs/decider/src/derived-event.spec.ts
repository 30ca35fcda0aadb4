import { GrantActivated, fixtureMeta, fixtureOf, registry } from '@grantline/contracts';
import { EventFactory } from './derived-event';

const factory = new EventFactory(registry, { source: 'grantline/spec', actor: { kind: 'service', id: 'spec' } }, (...parts) => parts.join('|'));
const cause = registry.encode(
  GrantActivated,
  fixtureOf(GrantActivated).data,
  fixtureMeta({ id: 'cause-1', correlationid: 'req-7', time: '2026-12-03T10:00:00.000Z' }),
);

describe('EventFactory', () => {
  it('derives id, time, correlation and causation from the cause, and the producer as actor', () => {
    const event = factory.derive(GrantActivated, fixtureOf(GrantActivated).data, { cause, subject: 'req-7', idParts: ['spec', cause.id, 'x'] });
    expect(event).toMatchObject({
      id: 'spec|cause-1|x',
      source: 'grantline/spec',
      type: GrantActivated.type,
      time: '2026-12-03T10:00:00.000Z',
      subject: 'req-7',
      correlationid: 'req-7',
      causationid: 'cause-1',
      actor: { kind: 'service', id: 'spec' },
    });
  });

  it('takes an explicit time, correlation and actor over the defaults', () => {
    const meta = factory.metadata('t', {
      subject: 's',
      idParts: ['a'],
      time: '2026-01-01T00:00:00.000Z',
      correlationId: 'c',
      actor: { kind: 'user', id: 'alice' },
    });
    expect(meta).toEqual({
      id: 'a',
      source: 'grantline/spec',
      time: '2026-01-01T00:00:00.000Z',
      subject: 's',
      correlationid: 'c',
      actor: { kind: 'user', id: 'alice' },
    });
  });

  it('refuses an event without a time, and data its contract rejects', () => {
    expect(() => factory.metadata('t', { subject: 's', idParts: ['a'] })).toThrow('needs its time');
    expect(() => factory.metadata('t', { subject: 's', time: '2026-01-01T00:00:00.000Z' })).toThrow('exactly one of id and idParts');
    expect(factory.metadata('t', { subject: 's', time: '2026-01-01T00:00:00.000Z', id: 'given' }).id).toBe('given');
    expect(() => factory.derive(GrantActivated, { grantId: 42 } as never, { cause, subject: 's', idParts: ['a'] })).toThrow();
  });
});
