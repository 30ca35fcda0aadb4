export { eventually } from './eventually';
export type { EventuallyOptions } from './eventually';
export { infraEndpoints, mongoDatabaseUrl, uniqueName } from './endpoints';
export type { InfraEndpoints } from './endpoints';
export * from './infra';
