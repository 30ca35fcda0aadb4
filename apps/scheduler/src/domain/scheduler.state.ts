import type { TimerKind } from '@grantline/contracts';
import { EventIdSet } from './event-id-set';
import { TimerIndex } from './timer-index';

/** What a fired timer points at; mirrors `TimerFiredData['target']`. */
export interface TimerTarget {
  readonly grantId?: string;
  readonly requestId?: string;
  readonly taskId?: string;
  readonly reviewId?: string;
  readonly transferId?: string;
  readonly identityId?: string;
  /** A certification campaign: the one a `campaign_due` timer starts, or the one a `review_deadline` belongs to. */
  readonly campaignId?: string;
}

/** A timer that is armed: not fired, not cancelled. */
export interface PendingTimer {
  /** `<kind>:<target id>` (recertification adds `:<n>`): the same timer rebuilt by replay keeps its id. */
  readonly timerId: string;
  readonly kind: TimerKind;
  /** Epoch milliseconds: numbers compare without parsing on every tick. */
  readonly dueAt: number;
  readonly target: TimerTarget;
  /** Kafka key of the fired event: the aggregate it concerns (the request when known). */
  readonly subject: string;
  readonly correlationId: string;
  /** The event that armed (or last moved) this timer. */
  readonly causationId: string;
}

export interface OpenTask {
  readonly requestId: string;
  readonly quorum: number;
  readonly approverIds: readonly string[];
}

/** Periodic recertification of one grant: due every `everyMs` from `anchorAt`, while the grant has not expired. */
export interface RecertificationPlan {
  readonly grantId: string;
  readonly requestId: string;
  readonly anchorAt: number;
  readonly everyMs: number;
  readonly expiresAt: number;
  readonly causationId: string;
}

/**
 * Everything the scheduler knows, derived only from the log. The tombstone sets (`fired`, `endedGrants`,
 * `endedTasks`) exist because input topics are read in no particular order relative to each other: a
 * `timer.fired` on the schedule topic, or a revocation, may be replayed before the event that armed the timer,
 * and must still win.
 */
export interface SchedulerState {
  readonly timers: ReadonlyMap<string, PendingTimer>;
  readonly fired: ReadonlySet<string>;
  readonly endedGrants: ReadonlySet<string>;
  readonly endedTasks: ReadonlySet<string>;
  readonly tasks: ReadonlyMap<string, OpenTask>;
  readonly tasksByRequest: ReadonlyMap<string, readonly string[]>;
  readonly recertifications: ReadonlyMap<string, RecertificationPlan>;
  /** The open ownership transfer case of each machine identity whose owner left: identity id → transfer id. */
  readonly ownershipTransfers: ReadonlyMap<string, string>;
  /** Event ids already applied: a redelivered event (at-least-once, or replay overlapping live) is a no-op. */
  readonly applied: ReadonlySet<string>;
}

/** The same shape, writable, the timers indexed by due time: what `TimerBook` holds and `apply` changes in place. */
export interface MutableSchedulerState {
  timers: TimerIndex;
  fired: Set<string>;
  endedGrants: Set<string>;
  endedTasks: Set<string>;
  tasks: Map<string, OpenTask>;
  tasksByRequest: Map<string, readonly string[]>;
  recertifications: Map<string, RecertificationPlan>;
  ownershipTransfers: Map<string, string>;
  applied: EventIdSet;
}

export function initialState(): MutableSchedulerState {
  return {
    timers: new TimerIndex(),
    fired: new Set(),
    endedGrants: new Set(),
    endedTasks: new Set(),
    tasks: new Map(),
    tasksByRequest: new Map(),
    recertifications: new Map(),
    ownershipTransfers: new Map(),
    applied: new EventIdSet(),
  };
}

export function cloneState(state: MutableSchedulerState): MutableSchedulerState {
  return {
    timers: state.timers.clone(),
    fired: new Set(state.fired),
    endedGrants: new Set(state.endedGrants),
    endedTasks: new Set(state.endedTasks),
    tasks: new Map(state.tasks),
    tasksByRequest: new Map(state.tasksByRequest),
    recertifications: new Map(state.recertifications),
    ownershipTransfers: new Map(state.ownershipTransfers),
    applied: state.applied.clone(),
  };
}

export function timerIdOf(kind: TimerKind, targetId: string, occurrence?: number): string {
  return occurrence === undefined ? `${kind}:${targetId}` : `${kind}:${targetId}:${occurrence}`;
}
