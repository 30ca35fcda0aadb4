import { TimerFired, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { apply as applyInPlace } from './scheduler.evolve';
import { cloneState, initialState } from './scheduler.state';
import type { MutableSchedulerState, PendingTimer, SchedulerState } from './scheduler.state';
import { timerFirings } from './timer-fired.factory';
import type { FiringContext, TimerFiredEvent } from './timer-fired.factory';

/**
 * The scheduler's state: the timers, indexed by due time so a tick looks only at what is due, and what the log
 * says already fired. The decider's evolve folds an event into a `copy()`; the runtime holds one book and
 * `apply`s events in place (the same transition), because its replay folds the whole log and a copy per event
 * would make that quadratic. No I/O, no clock of its own.
 */
export class TimerBook {
  private readonly state: MutableSchedulerState;
  private latestFiring: number | undefined;

  constructor(from?: TimerBook) {
    this.state = from ? cloneState(from.state) : initialState();
    this.latestFiring = from?.latestFiring;
  }

  copy(): TimerBook {
    return new TimerBook(this);
  }

  /** Folds `event` in place; returns false when it changed nothing (ignored type or already applied). */
  apply(event: Envelope): boolean {
    const changed = applyInPlace(this.state, event);
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

  /** Pending timers due at `now`, earliest first (ties by id), at most `limit`; nothing is removed. */
  due(now: Date, limit = Number.POSITIVE_INFINITY): PendingTimer[] {
    return this.state.timers.dueAt(now.getTime(), limit);
  }

  /** What the decider decides on a tick at `now`; the firings count as fired only once `apply` sees them. */
  fire(now: Date, context: FiringContext, limit?: number): TimerFiredEvent[] {
    const fire = timerFirings(context);
    return this.due(now, limit).map((timer) => fire(timer, now));
  }

  get pendingCount(): number {
    return this.state.timers.size;
  }

  get firedCount(): number {
    return this.state.fired.size;
  }

  /**
   * Bytes of the typed columns holding the timers and the applied event ids (what does not show in `heapUsed`: it
   * is ArrayBuffer memory); timers and ids kept as objects and strings beside them are not counted.
   */
  get columnBytes(): number {
    return this.state.timers.compactBytes + this.state.applied.compactBytes;
  }

  /** A read-only view; it changes as the book does. */
  view(): SchedulerState {
    return this.state;
  }

  /** The earliest pending due time, or undefined when nothing is armed. */
  nextDueAt(): Date | undefined {
    const earliest = this.state.timers.earliest();
    return earliest === undefined ? undefined : new Date(earliest);
  }
}
