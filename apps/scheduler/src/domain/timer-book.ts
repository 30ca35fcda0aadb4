import { TimerFired, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { EventIdSet } from './event-id-set';
import type { EventIdSetSnapshot } from './event-id-set';
import { apply as applyInPlace } from './scheduler.evolve';
import { cloneState, initialState } from './scheduler.state';
import type { MutableSchedulerState, OpenTask, PendingTimer, RecertificationPlan, SchedulerState } from './scheduler.state';
import { timerFirings } from './timer-fired.factory';
import type { FiringContext, TimerFiredEvent } from './timer-fired.factory';
import { TimerIndex } from './timer-index';
import type { TimerIndexSnapshot } from './timer-index';

/**
 * Everything a book holds, for a snapshot (ADR 0037). From `toSnapshot`, the typed columns are copies and the other
 * parts are the book's own sets and maps: read them before the book changes again (a codec encodes them at once).
 */
export interface TimerBookSnapshot {
  readonly timers: TimerIndexSnapshot;
  readonly applied: EventIdSetSnapshot;
  readonly fired: Iterable<string>;
  readonly endedGrants: Iterable<string>;
  readonly endedTasks: Iterable<string>;
  readonly tasks: Iterable<readonly [string, OpenTask]>;
  readonly tasksByRequest: Iterable<readonly [string, readonly string[]]>;
  readonly recertifications: Iterable<readonly [string, RecertificationPlan]>;
  readonly ownershipTransfers: Iterable<readonly [string, string]>;
  /** The latest `firedAt` folded (epoch ms), if any. */
  readonly latestFiring: number | undefined;
}

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

  /** What the book holds, for a snapshot; see TimerBookSnapshot. */
  toSnapshot(): TimerBookSnapshot {
    const { timers, applied, fired, endedGrants, endedTasks, tasks, tasksByRequest, recertifications, ownershipTransfers } = this.state;
    return {
      timers: timers.toSnapshot(),
      applied: applied.toSnapshot(),
      fired,
      endedGrants,
      endedTasks,
      tasks: tasks.entries(),
      tasksByRequest: tasksByRequest.entries(),
      recertifications: recertifications.entries(),
      ownershipTransfers: ownershipTransfers.entries(),
      latestFiring: this.latestFiring,
    };
  }

  /**
   * Makes this book, which holds nothing yet, the one a snapshot holds (the runtime's book is restored in place: its
   * ticker holds it). Everything is rebuilt and checked before the book changes, so a snapshot that throws
   * (RangeError) leaves it as it was. The snapshot's typed arrays are taken as they are.
   */
  restore(snapshot: TimerBookSnapshot): void {
    if (this.state.timers.size > 0 || this.state.applied.size > 0 || this.state.fired.size > 0 || this.latestFiring !== undefined) {
      throw new RangeError('a snapshot is restored only into a book that holds nothing');
    }
    const { latestFiring } = snapshot;
    if (latestFiring !== undefined && !Number.isFinite(latestFiring)) throw new RangeError(`the latest firing ${String(latestFiring)} is not a time`);
    const restored: MutableSchedulerState = {
      timers: TimerIndex.fromSnapshot(snapshot.timers),
      fired: new Set(snapshot.fired),
      endedGrants: new Set(snapshot.endedGrants),
      endedTasks: new Set(snapshot.endedTasks),
      tasks: new Map(snapshot.tasks),
      tasksByRequest: new Map(snapshot.tasksByRequest),
      recertifications: new Map(snapshot.recertifications),
      ownershipTransfers: new Map(snapshot.ownershipTransfers),
      applied: EventIdSet.fromSnapshot(snapshot.applied),
    };
    Object.assign(this.state, restored);
    this.latestFiring = latestFiring;
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
