import { z } from 'zod';
import { ContractViolationError } from '../errors/contract-violation.error';
import type { Envelope } from '../envelope/envelope.schema';
import { RequestSubmittedV2 } from '../requests/request-submitted.schema';
import { TOPICS } from '../topics/topic.catalogue';
import type { DataOf, TypeOf } from './event-definition';
import { defineEvent, isEvent } from './event-definition';

describe('defineEvent', () => {
  it('given a name and a version, then the type carries the version and the definition is frozen', () => {
    const def = defineEvent('iga.widget.polished', 3, TOPICS.requests, z.strictObject({ widgetId: z.string() }));

    const type: 'iga.widget.polished.v3' = def.type;

    expect(type).toBe('iga.widget.polished.v3');
    expect(Object.isFrozen(def)).toBe(true);
  });

  it.each([
    ['Widget.Polished', 1],
    ['iga', 1],
    ['iga.widget.polished', 0],
    ['iga.widget.polished', 1.5],
  ])('given the name %p and version %p, then the definition is rejected', (name, version) => {
    expect(() => defineEvent(name, version, TOPICS.requests, z.object({}))).toThrow(ContractViolationError);
  });

  it('given the helper types, then they recover data and type from a definition', () => {
    const data: DataOf<typeof RequestSubmittedV2> = {
      requestId: 'r',
      requesterId: 'a',
      subject: { id: 'a', kind: 'ai_agent' },
      items: { accessPackageId: 'p' },
      justification: 'j',
      endsAt: '2025-01-01T00:00:00Z',
      channel: 'cli',
    };
    const type: TypeOf<typeof RequestSubmittedV2> = 'iga.request.submitted.v2';
    // @ts-expect-error -- v2 has no durationHours: the helper types must be precise, not `unknown`
    const wrong: DataOf<typeof RequestSubmittedV2> = { ...data, durationHours: 8 };

    expect(RequestSubmittedV2.schema.safeParse(data).success).toBe(true);
    expect(type).toBe(RequestSubmittedV2.type);
    expect(RequestSubmittedV2.schema.safeParse(wrong).success).toBe(false);
  });

  it('given an envelope of another type, then isEvent does not narrow to it', () => {
    const envelope = { type: 'iga.request.withdrawn.v1' } as Envelope;

    expect(isEvent(envelope, RequestSubmittedV2)).toBe(false);
  });
});
