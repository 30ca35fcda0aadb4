export { GrantsModule } from './grants.module';
export { GrantsHandler } from './grants.handler';
export { ProvisioningStateService, STATE_EVENTS } from './provisioning-state.service';
export { PROVISIONING_CONFIG, ProvisioningConfigSchema, loadProvisioningConfig } from './provisioning.config';
export type { ProvisioningConfig } from './provisioning.config';
export { ReconciliationTrigger } from './reconciliation.trigger';
