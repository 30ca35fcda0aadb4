export type { Decider } from './decider';
export { decideAndEvolve, foldEvents } from './decider';
export type { AdjustableClock, Clock } from './clock';
export { fixedClock, isAdjustable, systemClock } from './clock';
export type { Derivation, EventIdOf, Producer } from './derived-event';
export { EventFactory } from './derived-event';
