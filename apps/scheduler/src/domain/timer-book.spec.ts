import type { Envelope } from '@grantline/contracts';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { makeSchedulerDecider } from './scheduler.decider';
import type { PendingTimer, SchedulerState } from './scheduler.state';
import { TimerBook } from './timer-book';

const e = schedulerEvents();
const decider = makeSchedulerDecider({ eventId: specEventId });

/** The oracle for the heap: every pending timer due at `now`, earliest first (ties by id), at most `limit`, by a plain scan. */
function due(state: SchedulerState, now: Date, limit = Number.POSITIVE_INFINITY): PendingTimer[] {
  const ready = [...state.timers.values()].filter((timer) => timer.dueAt <= now.getTime());
  ready.sort((a, b) => a.dueAt - b.dueAt || (a.timerId < b.timerId ? -1 : a.timerId > b.timerId ? 1 : 0));
  return ready.slice(0, limit);
}
const DAY = 86_400_000;
const START = Date.parse('2025-01-01T00:00:00.000Z');

const uuid = (n: number, kind: number): string => `0000000${kind}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * A deterministic pseudo-random log: grants created, moved, revoked; tasks opened and decided; some timers fired.
 * `uuid` ids (requests and events, as intake and deterministicEventId mint them) put the grant timers in the book's
 * compact columns; `plain` ones keep every timer whole.
 */
function randomLog(seed: number, size: number, ids: 'plain' | 'uuid' = 'plain'): Envelope[] {
  let x = seed;
  const rand = (n: number): number => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % n;
  };
  const at = (): string => new Date(START + rand(60) * DAY + rand(DAY)).toISOString();
  const log: Envelope[] = [];
  const request = (id: number): string => (ids === 'uuid' ? uuid(id, 1) : `r${id}`);
  const grant = (id: number): string => (ids === 'uuid' ? `${uuid(id, 1)}:ent-pg-orders-read` : `g${id}`);
  const event = (i: number): { id: string } | undefined => (ids === 'uuid' ? { id: uuid(i, 2) } : undefined);
  for (let i = 0; i < size; i += 1) {
    const id = rand(size / 4);
    switch (rand(6)) {
      case 0:
        log.push(e.grantCreated(grant(id), request(id), at(), event(i)));
        break;
      case 1:
        log.push(e.grantActivated(grant(id), request(id), at(), event(i)));
        break;
      case 2:
        log.push(e.grantRevoked(grant(id), request(id), event(i)));
        break;
      case 3:
        log.push(e.taskOpened(`t${id}`, `r${id}`, at()));
        break;
      case 4:
        log.push(e.decision(`t${id}`, `r${id}`, 'carol', rand(2) === 0 ? 'deny' : 'approve'));
        break;
      default: {
        // redeliver an earlier event: must change nothing
        const earlier = log[rand(Math.max(log.length, 1))];
        if (earlier) log.push(earlier);
      }
    }
  }
  return log;
}

describe('TimerBook', () => {
  it.each(['plain', 'uuid'] as const)('agrees with folding the pure evolve, and its heap agrees with the pure due scan (%s ids)', (ids) => {
    const log = randomLog(7, 2_000, ids);
    const book = new TimerBook();
    let state = decider.initialState();
    for (const [i, event] of log.entries()) {
      book.apply(event);
      state = decider.evolve(state, event);
      if (i % 100 === 0) {
        const now = new Date(START + (i / log.length) * 60 * DAY);
        expect(book.due(now, 25)).toEqual(due(state.view(), now, 25));
        // fire some, through both
        for (const firing of book.fire(now, { eventId: specEventId }, 10)) {
          book.apply(firing);
          state = decider.evolve(state, firing);
        }
      }
    }
    expect([...book.view().timers.entries()].sort()).toEqual([...state.view().timers.entries()].sort());
    expect(book.nextDueAt()?.getTime()).toBe(due(state.view(), new Date(START + 1_000 * DAY))[0]?.dueAt);
  });

  it('reports nothing due and no next due time when empty', () => {
    const book = new TimerBook();
    expect(book.due(new Date(START + 1_000 * DAY))).toEqual([]);
    expect(book.nextDueAt()).toBeUndefined();
  });

  it('applies a large log quickly (measured: events/s and firings/s)', () => {
    const grants = 20_000;
    const log: Envelope[] = [];
    for (let i = 0; i < grants; i += 1) log.push(e.grantCreated(`g${i}`, `r${i}`, new Date(START + (i % 31) * DAY + i).toISOString()));
    const book = new TimerBook();

    const applyStart = performance.now();
    book.applyAll(log);
    const applyMs = performance.now() - applyStart;

    const fireStart = performance.now();
    const firings = book.fire(new Date(START + 40 * DAY), { eventId: specEventId });
    for (const firing of firings) book.apply(firing);
    const fireMs = performance.now() - fireStart;

    expect(firings).toHaveLength(grants);
    expect(book.pendingCount).toBe(0);
    process.stdout.write(
      `scheduler domain: applied ${grants} events in ${applyMs.toFixed(0)} ms (${Math.round(grants / (applyMs / 1000))}/s); ` +
        `fired ${grants} timers in ${fireMs.toFixed(0)} ms (${Math.round(grants / (fireMs / 1000))}/s)\n`,
    );
    // generous bound: catches an accidental O(n^2), not a slow machine
    expect(applyMs + fireMs).toBeLessThan(30_000);
  });
});
