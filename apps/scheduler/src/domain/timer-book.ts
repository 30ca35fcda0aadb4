import { TimerFired, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { apply } from './scheduler.evolve';
import { initialState } from './scheduler.state';
import { TimerIndex } from './timer-index';
import type { MutableSchedulerState, PendingTimer, SchedulerState } from './scheduler.state';
import { timerFiredEvent } from './timer-fired.factory';
import type { FiringContext, TimerFiredEvent } from './timer-fired.factory';

/**
 * The scheduler's state held in one place and updated in place: folding `evolve` over a long log copies the state
 * at every step, this does the same transitions (the same `apply`) in O(1) per event. No I/O, no clock of its own.
 */
export class TimerBook {
  private readonly index = new TimerIndex();
  private readonly state: MutableSchedulerState = { ...initialState(), timers: this.index };

  private latestFiring: number | undefined;

  /** Returns false when the event changed nothing (ignored type or already applied). */
  apply(event: Envelope): boolean {
    const changed = apply(this.state, event);
    if (changed && isEvent(event, TimerFired)) {
      const firedAt = Date.parse(event.data.firedAt);
      if (this.latestFiring === undefined || firedAt > this.latestFiring) this.latestFiring = firedAt;
    }
    return changed;
  }

  applyAll(events: Iterable<Envelope>): void {
    for (const event of events) this.apply(event);
  }

  /** The latest `firedAt` in the log: how far the scheduler's time had got, as far as the log can tell. */
  latestFiredAt(): Date | undefined {
    return this.latestFiring === undefined ? undefined : new Date(this.latestFiring);
  }

  /** Same answer as the pure `due(state, now, limit)`, from the heap instead of a scan. */
  due(now: Date, limit = Number.POSITIVE_INFINITY): PendingTimer[] {
    return this.index.dueAt(now.getTime(), limit);
  }

  /** The firings for what is due now; they count as fired only once `apply` sees them (after the broker acknowledged). */
  fire(now: Date, context: FiringContext, limit?: number): TimerFiredEvent[] {
    return this.due(now, limit).map((timer) => timerFiredEvent(timer, now, context));
  }

  get pendingCount(): number {
    return this.state.timers.size;
  }

  get firedCount(): number {
    return this.state.fired.size;
  }

  /** A read-only view; it changes as the book does. */
  view(): SchedulerState {
    return this.state;
  }

  /** The earliest pending due time, or undefined when nothing is armed. */
  nextDueAt(): Date | undefined {
    const earliest = this.index.earliest();
    return earliest === undefined ? undefined : new Date(earliest);
  }
}
