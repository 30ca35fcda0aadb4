export { SCHEDULER_INPUT_TYPES, apply } from './scheduler.evolve';
export { cloneState, initialState, timerIdOf } from './scheduler.state';
export type { MutableSchedulerState, OpenTask, PendingTimer, RecertificationPlan, SchedulerState, TimerTarget } from './scheduler.state';
export { makeSchedulerDecider } from './scheduler.decider';
export type { SchedulerContext, SchedulerDecider, Tick } from './scheduler.decider';
export { SCHEDULER_SOURCE, timerFirings } from './timer-fired.factory';
export type { FiringContext, TimerFiredEvent } from './timer-fired.factory';
export { TimerBook } from './timer-book';
export type { TimerBookSnapshot } from './timer-book';
