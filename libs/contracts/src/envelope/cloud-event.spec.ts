import { fixtureMeta, requestSubmittedV2Fixture } from '../fixtures/event.fixtures';
import { registry } from '../registry/catalogue';
import { RequestSubmittedV2 } from '../requests/request-submitted.schema';
import { CloudEventSchema, fromCloudEvent, toCloudEvent } from './envelope.schema';

const CLOUDEVENTS_CONTEXT_ATTRIBUTE = /^[a-z0-9]{1,20}$/;
const encoded = () => registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ actor: { kind: 'user', id: 'alice', name: 'Alice' } }));
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('the envelope as a CloudEvents 1.0 structured-mode event', () => {
  it('given an envelope, then every context attribute is named as CloudEvents requires and every extension is a string', () => {
    const event = toCloudEvent(encoded());

    expect(CloudEventSchema.safeParse(event).success).toBe(true);
    for (const [name, value] of Object.entries(event)) {
      expect(name).toMatch(CLOUDEVENTS_CONTEXT_ATTRIBUTE);
      if (name !== 'data') expect(typeof value).toBe('string');
    }
    expect(event).toMatchObject({ actorkind: 'user', actorid: 'alice', actorname: 'Alice' });
    expect(event).not.toHaveProperty('actor');
  });

  it('given the structured value, when decoded, then it is the envelope it was written from', () => {
    const envelope = encoded();

    expect(registry.decode(overTheWire(toCloudEvent(envelope)))).toEqual(envelope);
  });

  it('given a record written before (actor as an object), when decoded, then it reads as it always did', () => {
    const envelope = encoded();

    expect(registry.decode(overTheWire(envelope))).toEqual(envelope);
    expect(fromCloudEvent(overTheWire(envelope))).toEqual(overTheWire(envelope));
  });

  it('given a structured value without its actor id, when decoded, then the missing attribute is named', () => {
    const { actorid: _missing, ...withoutId } = toCloudEvent(encoded());

    expect(() => registry.decode(overTheWire(withoutId))).toThrow(/actor/);
  });
});
