export { eventually } from './eventually';
export type { EventuallyOptions } from './eventually';
export { infraEndpoints, mongoDatabaseUrl, uniqueName } from './endpoints';
export type { InfraEndpoints } from './endpoints';
export * from './infra';
// jest's once-per-run hooks, also for runs outside jest that need the same infrastructure (npm run bench).
export { default as globalSetup } from './global-setup';
export { default as globalTeardown } from './global-teardown';
export { deciderSpec } from './decider-spec';
export type { DeciderGiven, DeciderThen, DeciderWhen } from './decider-spec';
export { ManualTimers } from './manual-timers';
