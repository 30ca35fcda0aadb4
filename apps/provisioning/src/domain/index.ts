export { GRANT_EVENTS, REMOVABLE, evolveGrant } from './grant.state';
export type { GrantState, GrantStatus } from './grant.state';
export { ProvisioningState, STATE_EVENTS } from './provisioning.state';
export type { EntitlementTarget, ProvisioningView } from './provisioning.state';
export { PROVISIONING_COMMANDS, PROVISIONING_SOURCE, commandIdOf, makeProvisioningDecider, provisioningEvents } from './provisioning.decider';
export type { ProvisioningContext, ProvisioningDecider } from './provisioning.decider';
export { targetAccountOf } from './target-account';
export { StateReportAssembler, reconcile } from './reconciliation';
export type { StateReport } from './reconciliation';
