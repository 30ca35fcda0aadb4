import { deterministicEventId } from './event-id';

describe('deterministicEventId', () => {
  it('given the same parts, when derived twice, then the ids are equal', () => {
    expect(deterministicEventId('decision', 'req-1')).toBe(deterministicEventId('decision', 'req-1'));
  });

  it('given parts that concatenate alike, when derived, then the ids differ', () => {
    expect(deterministicEventId('ab', 'c')).not.toBe(deterministicEventId('a', 'bc'));
  });

  it('is formatted as a version-5 style UUID', () => {
    expect(deterministicEventId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
