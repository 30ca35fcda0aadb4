import type { PendingTimer } from './scheduler.state';
import { TimerIndex } from './timer-index';

const uuid = (n: number, high = 0): string => {
  const hex = n.toString(16).padStart(12, '0');
  return `${high.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`;
};

/** A grant expiry as evolve arms it: compact when its ids are UUID-shaped. */
function grantTimer(
  request: string,
  dueAt: number,
  options: { entitlement?: string; withRequest?: boolean; cause?: string; subject?: string } = {},
): PendingTimer {
  const grantId = `${request}:${options.entitlement ?? 'ent-orders-read'}`;
  return {
    timerId: `grant_expiry:${grantId}`,
    kind: 'grant_expiry',
    dueAt,
    target: options.withRequest === false ? { grantId } : { grantId, requestId: request },
    subject: options.subject ?? request,
    correlationId: request,
    causationId: options.cause ?? uuid(dueAt, 0xabc),
  };
}

function set(index: TimerIndex, timer: PendingTimer): void {
  index.set(timer.timerId, timer);
}

/** What TimerIndex must agree with: a Map and a sort by (due time, id). */
function dueByReference(reference: Map<string, PendingTimer>, at: number, limit = Number.POSITIVE_INFINITY): string[] {
  return [...reference.values()]
    .filter((timer) => timer.dueAt <= at)
    .sort((a, b) => a.dueAt - b.dueAt || (a.timerId < b.timerId ? -1 : a.timerId > b.timerId ? 1 : 0))
    .slice(0, limit)
    .map((timer) => timer.timerId);
}

describe('TimerIndex', () => {
  it('gives back exactly the timer it was given, compact or kept whole', () => {
    const index = new TimerIndex();
    const compact = grantTimer(uuid(1), 1_000);
    const withoutRequest = grantTimer(uuid(2), 2_000, { withRequest: false });
    const otherSubject = grantTimer(uuid(3), 3_000, { subject: 'someone-else' });
    const plainIds: PendingTimer = {
      timerId: 'approval_deadline:t1',
      kind: 'approval_deadline',
      dueAt: 500,
      target: { taskId: 't1', requestId: 'r1' },
      subject: 'r1',
      correlationId: 'r1',
      causationId: 'e1',
    };
    for (const timer of [compact, withoutRequest, otherSubject, plainIds]) set(index, timer);

    expect(index.size).toBe(4);
    expect(index.wholeCount).toBe(2);
    for (const timer of [compact, withoutRequest, otherSubject, plainIds]) {
      expect(index.get(timer.timerId)).toEqual(timer);
      expect(index.has(timer.timerId)).toBe(true);
    }
    expect(new Map(index)).toEqual(new Map([compact, withoutRequest, otherSubject, plainIds].map((timer) => [timer.timerId, timer])));
    expect(index.get(`grant_expiry:${uuid(9)}:ent-orders-read`)).toBeUndefined();
    expect(index.get(`grant_expiry:${uuid(1)}:ent-other`)).toBeUndefined();
    expect(index.get(`recertification_due:${uuid(1)}:ent-orders-read`)).toBeUndefined();
  });

  it('keeps a timer with a field it does not know whole rather than drop the field', () => {
    const index = new TimerIndex();
    const extended = { ...grantTimer(uuid(1), 1_000), note: 'kept' } as PendingTimer;
    set(index, extended);
    expect(index.wholeCount).toBe(1);
    expect(index.get(extended.timerId)).toEqual(extended);
  });

  it('moves a re-armed timer, forgets a deleted one, and leaves a clone untouched', () => {
    const index = new TimerIndex();
    set(index, grantTimer(uuid(1), 5_000));
    set(index, grantTimer(uuid(2), 6_000));
    const copy = index.clone();

    set(index, grantTimer(uuid(1), 9_000, { cause: uuid(77, 0xdef) }));
    expect(index.delete(grantTimer(uuid(2), 0).timerId)).toBe(true);
    expect(index.delete(grantTimer(uuid(2), 0).timerId)).toBe(false);

    expect(index.size).toBe(1);
    expect(index.earliest()).toBe(9_000);
    expect(index.get(grantTimer(uuid(1), 0).timerId)).toEqual(grantTimer(uuid(1), 9_000, { cause: uuid(77, 0xdef) }));
    expect(copy.dueAt(10_000, 10).map((timer) => timer.dueAt)).toEqual([5_000, 6_000]);
  });

  it('lists what is due earliest first, ties by id as strings compare, without removing anything', () => {
    const index = new TimerIndex();
    const timers = [
      grantTimer(uuid(3), 100),
      grantTimer(uuid(1), 100, { entitlement: 'b' }),
      grantTimer(uuid(1), 100, { entitlement: 'a' }),
      grantTimer(uuid(2, 0xff), 100),
      grantTimer(uuid(2), 100, { subject: 'kept-whole' }),
      { ...grantTimer(uuid(1), 100), kind: 'recertification_due', timerId: `recertification_due:${uuid(1)}:ent-orders-read` } as PendingTimer,
      grantTimer(uuid(4), 50),
      grantTimer(uuid(5), 200),
    ];
    for (const timer of timers) set(index, timer);
    const reference = new Map(timers.map((timer) => [timer.timerId, timer]));

    expect(index.dueAt(150, 100).map((timer) => timer.timerId)).toEqual(dueByReference(reference, 150));
    expect(index.dueAt(150, 3).map((timer) => timer.timerId)).toEqual(dueByReference(reference, 150, 3));
    expect(index.size).toBe(timers.length);
  });

  it('agrees with a Map and a sort over thousands of random arms, moves, deletes and due lists', () => {
    const index = new TimerIndex();
    const reference = new Map<string, PendingTimer>();
    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 6_000; step += 1) {
      const request = uuid(random(1_000), random(2));
      const action = random(10);
      const timer = grantTimer(request, random(1_000), {
        entitlement: `ent-${random(3)}`,
        withRequest: random(4) !== 0,
        subject: random(20) === 0 ? 'other' : request,
      });
      if (action < 6) {
        set(index, timer);
        reference.set(timer.timerId, timer);
      } else if (action < 9) {
        expect(index.delete(timer.timerId)).toBe(reference.delete(timer.timerId));
      } else {
        const at = random(1_000);
        expect(index.dueAt(at, 20).map((due) => due.timerId)).toEqual(dueByReference(reference, at, 20));
      }
    }
    expect(index.size).toBe(reference.size);
    expect(new Map(index)).toEqual(reference);
    expect(index.earliest()).toBe(Math.min(...[...reference.values()].map((timer) => timer.dueAt)));
  });

  it('holds a grant expiry in well under 150 bytes', () => {
    const index = new TimerIndex();
    const count = 100_000;
    for (let i = 0; i < count; i += 1) set(index, grantTimer(uuid(i), i));
    expect(index.wholeCount).toBe(0);
    expect(index.compactBytes / count).toBeLessThan(100);
  });
});
