import type { Envelope } from '@grantline/contracts';
import type { Decider } from '@grantline/decider';
import { TimerBook } from './timer-book';
import { timerFirings } from './timer-fired.factory';
import type { FiringContext, TimerFiredEvent } from './timer-fired.factory';

/**
 * The scheduler's one command: time has moved on to `now`. Firings are bounded by `limit` so a tick does bounded
 * work however large the backlog (a scheduler restarted after a long outage catches up over several ticks).
 */
export interface Tick {
  readonly now: Date;
  readonly limit?: number;
}

export type SchedulerContext = FiringContext;

/** Lifecycle events (grants, approval tasks, reviews, firings) fold into the book; a tick fires what is due. */
export interface SchedulerDecider extends Decider<Tick, Envelope, TimerBook> {
  decide(command: Tick, book: TimerBook): TimerFiredEvent[];
}

export function makeSchedulerDecider(context: SchedulerContext): SchedulerDecider {
  const fire = timerFirings(context);
  return {
    initialState: () => new TimerBook(),
    evolve: (book, event) => {
      const next = book.copy();
      next.apply(event);
      return next;
    },
    // Earliest first (ties by timer id); a firing counts as fired only once it is folded back (after the broker acknowledged it).
    decide: ({ now, limit }, book) => book.due(now, limit).map((timer) => fire(timer, now)),
  };
}
