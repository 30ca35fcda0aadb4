/**
 * The one source of time (architecture principle 7: time is injected). Domain code takes its time from the
 * event that caused a decision; the runtime (timers, "now" of a query, a wait's deadline) asks a Clock, so
 * specs pin it and the scheduler's test mode can move it.
 */
export interface Clock {
  now(): Date;
}

/** A clock whose time can be moved forward on purpose: tests, and the scheduler's test mode. */
export interface AdjustableClock extends Clock {
  /** Moves time forward by `ms` (>= 0); returns the new now. */
  advance(ms: number): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as Partial<AdjustableClock>).advance === 'function';
}

/** A clock standing still at `at` until advanced: specs and replays. */
export function fixedClock(at: Date | string): AdjustableClock {
  let now = new Date(at);
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward (got ${ms} ms)`);
      now = new Date(now.getTime() + ms);
      return new Date(now);
    },
  };
}
