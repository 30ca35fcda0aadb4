import { z } from 'zod';
import { ContractViolationError } from '../errors/contract-violation.error';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error';
import {
  EVENT_FIXTURES,
  fixtureMeta,
  fixtureOf,
  requestSubmittedV1Fixture,
  requestSubmittedV1UpcastFixture,
  requestSubmittedV2Fixture,
} from '../fixtures/event.fixtures';
import { GrantCredentialIssued } from '../grants/grant.schema';
import { NotificationRequested, NotificationRequestedV1 } from '../notifications/notification-requested.schema';
import { RequestSubmitted, RequestSubmittedV1, RequestSubmittedV2 } from '../requests/request-submitted.schema';
import { PolicyDecisionRecorded, PolicyDecisionRecordedV1 } from '../policy/decision-recorded.schema';
import { TimerFired, TimerFiredV1 } from '../schedule/timer-fired.schema';
import { TOPICS } from '../topics/topic.catalogue';
import { registry } from './catalogue';
import { defineEvent, isEvent } from './event-definition';
import { EventRegistry } from './event.registry';

/** What travels over Kafka: the encoded envelope as JSON text, parsed back. */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Runs `act` and returns the ContractViolationError it throws (failing the test if it throws nothing else). */
function violationOf(act: () => unknown): ContractViolationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ContractViolationError) return error;
    throw error;
  }
  throw new Error('expected a ContractViolationError, nothing was thrown');
}

const validSubmission = () => registry.encode(RequestSubmitted, requestSubmittedV2Fixture, fixtureMeta());

describe('EventRegistry round trip', () => {
  it.each(EVENT_FIXTURES.map((f) => [f.def.type, f] as const))(
    'given a valid %s fixture, when it is encoded, serialised and decoded, then it deep-equals the encoded envelope',
    (_type, { def, data }) => {
      const encoded = registry.encode(def, data, fixtureMeta());

      const decoded = registry.decode(overTheWire(encoded), { upcast: false });

      expect(decoded).toEqual(encoded);
      expect(encoded).toMatchObject({ specversion: '1.0', type: def.type, datacontenttype: 'application/json', data });
    },
  );

  it('given every registered type, then each has at least one fixture', () => {
    const covered = new Set(EVENT_FIXTURES.map((f) => f.def.type));

    const missing = registry.definitions().filter((def) => !covered.has(def.type));

    expect(missing.map((def) => def.type)).toEqual([]);
  });

  it('given a latest-version fixture, when decoded with upcasting, then nothing changes', () => {
    const encoded = validSubmission();

    expect(registry.decode(overTheWire(encoded))).toEqual(encoded);
  });
});

describe('EventRegistry upcasting', () => {
  it('given a frozen v1 submission on the log, when decoded, then it becomes a v2 event with an ISO duration and the api channel', () => {
    const v1 = registry.encode(RequestSubmittedV1, requestSubmittedV1Fixture, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe('iga.request.submitted.v2');
    expect(decoded.data).toEqual(requestSubmittedV1UpcastFixture);
    expect({ ...decoded, type: v1.type, data: v1.data }).toEqual(v1);
    expect(isEvent(decoded, RequestSubmittedV2)).toBe(true);
  });

  it('given a frozen v1 notification on the log, when decoded, then it is the same notification as v2', () => {
    const v1 = registry.encode(NotificationRequestedV1, fixtureOf(NotificationRequestedV1).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe('iga.notification.requested.v2');
    expect(decoded.data).toEqual(v1.data);
    expect(isEvent(decoded, NotificationRequested)).toBe(true);
  });

  it('given a frozen v1 timer on the log, when decoded, then it is the same timer as v2; a v2-only kind is refused by v1', () => {
    const v1 = registry.encode(TimerFiredV1, fixtureOf(TimerFiredV1).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe('iga.timer.fired.v2');
    expect(decoded.data).toEqual(v1.data);
    expect(isEvent(decoded, TimerFired)).toBe(true);
    const campaignDue = { ...fixtureOf(TimerFiredV1).data, timerId: 'campaign_due:q1', kind: 'campaign_due', target: { campaignId: 'q1' } };
    expect(TimerFiredV1.schema.safeParse(campaignDue).success).toBe(false);
    expect(TimerFired.schema.safeParse(campaignDue).success).toBe(true);
    expect(TimerFired.schema.safeParse({ ...campaignDue, target: {} }).error?.issues[0]?.path).toEqual(['target', 'campaignId']);
  });

  it('given a frozen v1 policy decision on the log, when decoded, then it is v2 saying it was recorded before v2 (not reproducible)', () => {
    const v1 = registry.encode(PolicyDecisionRecordedV1, fixtureOf(PolicyDecisionRecordedV1).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe('iga.policy.decision-recorded.v2');
    expect(decoded.data).toEqual({ ...v1.data, evaluation: { outcome: 'recorded_before_v2' } });
    expect(isEvent(decoded, PolicyDecisionRecorded)).toBe(true);
    // a writer cannot claim an evaluation for an engine other than cel
    const rego = { ...fixtureOf(PolicyDecisionRecorded).data, engine: 'rego' };
    expect(PolicyDecisionRecorded.schema.safeParse(rego).error?.issues[0]?.path).toEqual(['evaluation', 'outcome']);
    expect(PolicyDecisionRecorded.schema.safeParse({ ...fixtureOf(PolicyDecisionRecorded).data, evaluation: undefined }).success).toBe(false);
  });

  it('given a drift alert, then v1 cannot carry it (no such template, no report reference) and v2 can', () => {
    const drift = fixtureOf(NotificationRequested).data;

    expect(NotificationRequestedV1.schema.safeParse(drift).success).toBe(false);
    expect(NotificationRequested.schema.safeParse(drift).success).toBe(true);
  });

  it('given an upcaster that produces invalid data, when decoding, then the invalid field is named instead of passing bad data on', () => {
    const Old = defineEvent('iga.test.happened', 1, TOPICS.requests, z.strictObject({ n: z.number() }));
    const New = defineEvent('iga.test.happened', 2, TOPICS.requests, z.strictObject({ count: z.number().int() }));
    const broken = new EventRegistry().register(Old).register(New, () => ({ count: 'many' }));
    const raw = overTheWire(broken.encode(Old, { n: 1 }, fixtureMeta()));

    const error = violationOf(() => broken.decode(raw));

    expect(error.eventType).toBe('iga.test.happened.v2');
    expect(error.message).toContain('data.count');
  });

  it('given version 2 registered without an upcaster while version 1 exists, then registration fails', () => {
    const Old = defineEvent('iga.test.happened', 1, TOPICS.requests, z.strictObject({ n: z.number() }));
    const New = defineEvent('iga.test.happened', 2, TOPICS.requests, z.strictObject({ n: z.number() }));

    expect(() => new EventRegistry().register(Old).register(New)).toThrow(/upcaster from v1 is required/);
  });

  it('given the same type registered twice, then registration fails', () => {
    expect(() => new EventRegistry().register(TimerFired).register(TimerFired)).toThrow(/already registered/);
  });

  it('given the latest version is asked by name, then it is v2', () => {
    expect(registry.latestOf('iga.request.submitted')).toBe(RequestSubmittedV2);
    expect(registry.definitionOf('iga.request.submitted.v1')).toBe(RequestSubmittedV1);
  });
});

describe('EventRegistry rejects what breaks the contract', () => {
  it('given a submission without its requestId, when decoded, then the error names data.requestId', () => {
    const raw = overTheWire(validSubmission()) as { data: Record<string, unknown> };
    delete raw.data['requestId'];

    const error = violationOf(() => registry.decode(raw));

    expect(error.eventType).toBe('iga.request.submitted.v2');
    expect(error.issues).toContainEqual({ path: 'data.requestId', message: 'Invalid input: expected string, received undefined' });
    expect(error.message).toMatch(/^iga\.request\.submitted\.v2 is invalid: data\.requestId: Invalid input/);
  });

  it.each([
    ['specversion', '0.3'],
    ['time', 'yesterday'],
    ['type', 'RequestSubmitted'],
    ['subject', ''],
    ['correlationid', undefined],
  ])('given an envelope with a bad %s, when decoded, then the error names that attribute', (attribute, value) => {
    const raw = { ...(overTheWire(validSubmission()) as object), [attribute]: value };

    const error = violationOf(() => registry.decode(raw));

    expect(error.issues.map((issue) => issue.path)).toEqual([attribute]);
  });

  it('given an actor without an id, when encoded, then the error names actor.id', () => {
    const error = violationOf(() => registry.encode(RequestSubmitted, requestSubmittedV2Fixture, fixtureMeta({ actor: { kind: 'user', id: '' } })));

    expect(error.issues.map((issue) => issue.path)).toEqual(['actor.id']);
  });

  it('given a 1 MB justification, when encoded, then it is rejected naming data.justification', () => {
    const data = { ...requestSubmittedV2Fixture, justification: 'x'.repeat(1024 * 1024) };

    const error = violationOf(() => registry.encode(RequestSubmitted, data, fixtureMeta()));

    expect(error.issues).toEqual([{ path: 'data.justification', message: 'Too big: expected string to have <=4000 characters' }]);
  });

  it.each(['-PT8H', 'PT0S', 'P1M', '8 hours', 'PT', 'P'])('given the duration %p, when encoded, then it is rejected naming data.duration', (duration) => {
    const data = { ...requestSubmittedV2Fixture, duration };

    const error = violationOf(() => registry.encode(RequestSubmitted, data, fixtureMeta()));

    expect(error.issues.map((issue) => issue.path)).toEqual(['data.duration']);
    expect(error.message).toContain('ISO-8601 duration');
  });

  it('given a submission with both a duration and an end, when encoded, then it is rejected', () => {
    const data = { ...requestSubmittedV2Fixture, endsAt: '2025-04-01T00:00:00Z' };

    expect(violationOf(() => registry.encode(RequestSubmitted, data, fixtureMeta())).message).toContain('exactly one of duration or endsAt');
  });

  it.each(['password', 'secretValue', 'token', 'privateKey', 'client_secret', 'apiKey'].map((field) => [field, field]))(
    'given a credential-issued event carrying a %s field, when encoded, then it is rejected naming data.%s',
    (field) => {
      const { def, data } = fixtureOf(GrantCredentialIssued);
      const leaking = { ...data, [field]: 'hunter2' } as typeof data;

      const error = violationOf(() => registry.encode(def, leaking, fixtureMeta()));

      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]).toEqual({ path: `data.${field}`, message: expect.stringContaining('looks like a secret value') });
    },
  );

  it('given a credential reference whose value is a PEM private key, when encoded, then it is rejected', () => {
    const { def, data } = fixtureOf(GrantCredentialIssued);
    const leaking = { ...data, credentialRef: '-----BEGIN RSA PRIVATE KEY-----\nMIIB...' };

    const error = violationOf(() => registry.encode(def, leaking, fixtureMeta()));

    expect(error.issues.map((issue) => issue.path)).toEqual(['data.credentialRef']);
  });

  it('given several bad fields, then the message names every one of them', () => {
    const data = { ...requestSubmittedV2Fixture, requesterId: '', channel: 'fax' } as unknown as typeof requestSubmittedV2Fixture;

    const error = violationOf(() => registry.encode(RequestSubmitted, data, fixtureMeta({ time: 'now' })));

    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['data.channel', 'data.requesterId', 'time']);
  });

  it('given an unknown key in strict data, then the error names the key itself', () => {
    const data = { ...requestSubmittedV2Fixture, priority: 'urgent' } as unknown as typeof requestSubmittedV2Fixture;

    const error = violationOf(() => registry.encode(RequestSubmitted, data, fixtureMeta()));

    expect(error.issues).toEqual([{ path: 'data.priority', message: 'Unrecognized key' }]);
  });

  it('given a non-object, when decoded, then the error names the root', () => {
    const error = violationOf(() => registry.decode('not an event'));

    expect(error.message).toBe('event is invalid: (root): Invalid input: expected object, received string');
  });
});

describe('EventRegistry unknown types', () => {
  it('given a well-formed envelope of an unregistered type, when decoded, then UnknownEventTypeError names the type', () => {
    const raw = { ...(overTheWire(validSubmission()) as object), type: 'iga.request.teleported.v1' };

    expect(() => registry.decode(raw)).toThrow(UnknownEventTypeError);
    expect(() => registry.decode(raw)).toThrow('Unknown event type: iga.request.teleported.v1');
  });

  it('given a definition not in the registry, when encoded, then UnknownEventTypeError is thrown', () => {
    const Stray = defineEvent('iga.stray.happened', 1, TOPICS.requests, z.strictObject({}));

    expect(() => registry.encode(Stray, {}, fixtureMeta())).toThrow(UnknownEventTypeError);
  });

  it('given an unknown type, when asking for its definition, then UnknownEventTypeError carries the type', () => {
    const error = (() => {
      try {
        registry.definitionOf('iga.nope.v1');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(UnknownEventTypeError);
    expect((error as UnknownEventTypeError).eventType).toBe('iga.nope.v1');
  });
});
