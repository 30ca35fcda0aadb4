import { EventIdSet } from './event-id-set';

const uuid = (n: number): string => `0000abcd-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('EventIdSet', () => {
  it('remembers UUID-shaped and other ids alike, each once', () => {
    const ids = new EventIdSet();
    ids.add(uuid(1)).add(uuid(1)).add('spec-grant-created-1').add('spec-grant-created-1');
    expect(ids.size).toBe(2);
    expect(ids.has(uuid(1))).toBe(true);
    expect(ids.has('spec-grant-created-1')).toBe(true);
    expect(ids.has(uuid(2))).toBe(false);
    expect(ids.has(uuid(1).toUpperCase())).toBe(false);
    expect(new Set(ids)).toEqual(new Set([uuid(1), 'spec-grant-created-1']));
  });

  it('keeps every id through its growth, and a clone is independent', () => {
    const ids = new EventIdSet();
    for (let i = 0; i < 50_000; i += 1) ids.add(uuid(i * 7));
    const copy = ids.clone();
    ids.add(uuid(1));

    expect(ids.size).toBe(50_001);
    expect(copy.size).toBe(50_000);
    expect(copy.has(uuid(1))).toBe(false);
    for (let i = 0; i < 50_000; i += 1) expect(ids.has(uuid(i * 7))).toBe(true);
    expect(ids.has(uuid(3))).toBe(false);
    // about 30 bytes an id with the table's free room, against about 90 in a Set of strings
    expect(ids.compactBytes / ids.size).toBeLessThan(50);
  });
});
