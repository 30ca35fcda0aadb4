export { TimersModule } from './timers.module';
export type { TimersModuleOptions } from './timers.module';
export { SchedulerRuntime } from './scheduler.runtime';
export type { RebuildReport, SchedulerRuntimeOptions } from './scheduler.runtime';
export { TimerTicker, DEFAULT_TICK_BATCH_SIZE, DEFAULT_TICK_INTERVAL_MS } from './timer-ticker';
export type { TimerTickerOptions } from './timer-ticker';
export { SCHEDULER_RUNTIME, TIMERS_CONFIG, timersConfigFromEnv } from './timers.config';
export type { TimersConfig } from './timers.config';
