/** The only source of time in the scheduler (architecture principle 7: time is injected). */
export interface Clock {
  now(): Date;
}

/** Nest injection token for the `Clock`. */
export const CLOCK = Symbol('CLOCK');

/** A clock whose time can be moved forward on purpose: tests, and e2e runs through `POST /v1/test-clock/advance`. */
export interface AdjustableClock extends Clock {
  /** Moves time forward by `ms` (>= 0); returns the new now. */
  advance(ms: number): Date;
}

export function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as Partial<AdjustableClock>).advance === 'function';
}
