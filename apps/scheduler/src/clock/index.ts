export { SystemClock } from './system.clock';
export { FixedClock, OffsetClock } from './offset.clock';
export { clockConfigFromEnv, createClock } from './clock.config';
export type { ClockConfig, ClockMode } from './clock.config';
