import { TOPICS, TimerFired, registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { InMemoryMessageBus, deterministicEventId } from '@grantline/messaging';
import { eventually } from '@grantline/testing';
import { FixedClock } from '../clock/offset.clock';
import { TimerBook } from '../domain/timer-book';
import { schedulerEvents } from '../testing/scheduler-events';
import { DEFAULT_TICK_INTERVAL_MS, TimerTicker } from './timer-ticker';

const e = schedulerEvents();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Node's setTimeout limit: a longer delay fires after 1 ms instead. */
const SET_TIMEOUT_MAX_MS = 2 ** 31 - 1;

function setup(start = '2025-01-01T00:00:00.000Z', batchSize?: number) {
  const clock = new FixedClock(start);
  const book = new TimerBook();
  const bus = new InMemoryMessageBus({ registry });
  const ticker = new TimerTicker({ clock, book, publisher: bus.publisher, registry, topic: TOPICS.schedule, ...(batchSize ? { batchSize } : {}) });
  const firedData = (): TimerFiredData[] => bus.events().map((event) => event.data as TimerFiredData);
  return { clock, book, bus, ticker, firedData };
}

describe('TimerTicker with a controllable clock', () => {
  it('fires a timer due beyond 24.8 days (past setTimeout limit) exactly when due', async () => {
    const { clock, book, ticker, firedData } = setup();
    const expiresAt = new Date(clock.now().getTime() + 30 * DAY).toISOString();
    expect(30 * DAY).toBeGreaterThan(SET_TIMEOUT_MAX_MS);
    book.apply(e.grantCreated('g-long', 'r-long', expiresAt));

    clock.advance(30 * DAY - 1);
    expect(await ticker.tick()).toBe(0);
    clock.advance(1);
    expect(await ticker.tick()).toBe(1);

    expect(firedData()).toEqual([expect.objectContaining({ timerId: 'grant_expiry:g-long', dueAt: expiresAt, firedAt: expiresAt })]);
  });

  it('runs a month of expiries in one test second: each fires once, within one tick of its due time', async () => {
    const { clock, book, ticker, bus } = setup();
    const grants = 1_000;
    const start = clock.now().getTime();
    const expiries = new Map<string, number>();
    for (let i = 0; i < grants; i += 1) {
      // spread over 31 days, not aligned to the tick step
      const expiresAt = start + Math.floor(((i + 0.5) / grants) * 31 * DAY);
      expiries.set(`grant_expiry:g${i}`, expiresAt);
      book.apply(e.grantCreated(`g${i}`, `r${i}`, new Date(expiresAt).toISOString()));
    }

    const began = performance.now();
    const step = 10 * 60_000; // one tick per 10 simulated minutes
    while (clock.now().getTime() < start + 32 * DAY) {
      clock.advance(step);
      await ticker.tick();
    }
    const elapsedMs = performance.now() - began;

    const fired = bus.events().map((event) => event.data as TimerFiredData);
    expect(fired).toHaveLength(grants);
    expect(new Set(fired.map((data) => data.timerId)).size).toBe(grants);
    for (const data of fired) {
      const lateness = Date.parse(data.firedAt) - expiries.get(data.timerId)!;
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(step);
    }
    expect(book.pendingCount).toBe(0);
    process.stdout.write(`scheduler ticker: 31 simulated days, ${grants} expiries, 1 tick per 10 simulated minutes: ${elapsedMs.toFixed(0)} ms\n`);
    // about a second on an idle 2-core machine; the bound leaves room for a loaded CI runner
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('fires nothing for a grant revoked before expiry', async () => {
    const { clock, book, ticker } = setup();
    book.apply(e.grantCreated('g1', 'r1', '2025-01-10T00:00:00.000Z'));
    book.apply(e.grantRevoked('g1', 'r1'));

    clock.advance(60 * DAY);
    expect(await ticker.drain()).toBe(0);
  });

  it('does bounded work per tick and drains a backlog over several ticks', async () => {
    const { clock, book, ticker, bus } = setup('2025-01-01T00:00:00.000Z', 100);
    for (let i = 0; i < 250; i += 1) book.apply(e.grantCreated(`g${i}`, `r${i}`, '2025-01-02T00:00:00.000Z'));
    clock.advance(2 * DAY);

    expect(await ticker.tick()).toBe(100);
    expect(await ticker.drain()).toBe(150);
    expect(bus.size()).toBe(250);
  });

  it('running, catches up a burst larger than a batch within one interval, not one batch per interval', async () => {
    // Only the ticker's interval is faked: publishing and the wait below run on real time, and no second interval
    // comes unless the test advances, so every firing after the one advance is the first interval's catch-up.
    jest.useFakeTimers({
      doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout'],
    });
    const { clock, book, bus, ticker } = setup('2025-01-01T00:00:00.000Z', 10);
    try {
      for (let i = 0; i < 95; i += 1) book.apply(e.grantCreated(`g${i}`, `r${i}`, '2025-01-02T00:00:00.000Z'));
      clock.advance(2 * DAY);

      ticker.start();
      await jest.advanceTimersByTimeAsync(DEFAULT_TICK_INTERVAL_MS);
      await eventually(() => expect(bus.size()).toBe(95), { timeoutMs: 10_000 });
      expect(book.pendingCount).toBe(0);
    } finally {
      await ticker.stop();
      jest.useRealTimers();
    }
  });

  it('keeps timers pending when the publish fails and fires them under the same ids on the next tick', async () => {
    const { clock, book, ticker, bus } = setup();
    book.apply(e.grantCreated('g1', 'r1', '2025-01-02T00:00:00.000Z'));
    clock.advance(2 * DAY);
    const expectedId = book.fire(clock.now(), { registry, eventId: deterministicEventId })[0]?.id;

    bus.failNextPublish();
    await expect(ticker.tick()).rejects.toThrow('broker unavailable');
    expect(book.pendingCount).toBe(1);

    expect(await ticker.tick()).toBe(1);
    expect(bus.events().map((event) => event.id)).toEqual([expectedId]);
    expect(await ticker.tick()).toBe(0);
  });

  it('never overlaps ticks: concurrent calls fire each timer once', async () => {
    const { clock, book, ticker, bus } = setup();
    for (let i = 0; i < 10; i += 1) book.apply(e.grantCreated(`g${i}`, `r${i}`, '2025-01-02T00:00:00.000Z'));
    clock.advance(2 * DAY);

    const counts = await Promise.all([ticker.tick(), ticker.tick(), ticker.tick()]);

    expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(bus.size()).toBe(10);
  });

  it('after a restart fires each pending timer exactly once: the new instance reads back what the old one fired', async () => {
    const inputs: Envelope[] = [];
    for (let i = 0; i < 20; i += 1)
      inputs.push(e.grantCreated(`g${i}`, `r${i}`, new Date(Date.parse('2025-01-01T00:00:00.000Z') + (i + 1) * DAY).toISOString()));
    const first = setup();
    first.book.applyAll(inputs);
    first.clock.advance(10 * DAY + HOUR);
    await first.ticker.drain();
    expect(first.bus.events()).toHaveLength(10);

    // "kill" the first instance; the second rebuilds from the log: inputs plus the schedule topic
    const second = setup(first.clock.now().toISOString());
    second.book.applyAll([...inputs, ...first.bus.events()]);
    expect(await second.ticker.drain()).toBe(0);
    second.clock.advance(30 * DAY);
    await second.ticker.drain();

    const ids = [...first.bus.events(), ...second.bus.events()].map((event) => event.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    expect(second.bus.events().every((event) => event.type === TimerFired.type)).toBe(true);
  });

  it('refuses an interval above one second', () => {
    const { clock, book, bus } = setup();
    expect(() => new TimerTicker({ clock, book, publisher: bus.publisher, registry, topic: TOPICS.schedule, intervalMs: 5_000 })).toThrow(RangeError);
  });
});
