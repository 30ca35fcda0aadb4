export { GRANT_EVENTS, REMOVABLE, evolveGrant } from './grant.state';
export type { GrantState, GrantStatus } from './grant.state';
export { ProvisioningState } from './provisioning.state';
export type { EntitlementTarget, ProvisioningView } from './provisioning.state';
export { DECIDE_INPUTS, commandIdOf, decide } from './provisioning.decide';
export type { DecideOptions, Decision } from './provisioning.decide';
export { targetAccountOf } from './target-account';
export { StateReportAssembler, reconcile } from './reconciliation';
export type { StateReport } from './reconciliation';
