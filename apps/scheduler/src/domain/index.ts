export { SCHEDULER_INPUT_TYPES, apply, evolve } from './scheduler.evolve';
export { cloneState, initialState, timerIdOf } from './scheduler.state';
export type { MutableSchedulerState, OpenTask, PendingTimer, RecertificationPlan, SchedulerState, TimerTarget } from './scheduler.state';
export { SCHEDULER_SOURCE, due, timerFiredEvent, timerFiredEventId } from './timer-fired.factory';
export type { FiringContext, TimerFiredEvent } from './timer-fired.factory';
export { TimerBook } from './timer-book';
