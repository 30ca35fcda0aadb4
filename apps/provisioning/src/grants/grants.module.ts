import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { GrantsHandler } from './grants.handler';
import { PROVISIONING_CONFIG, loadProvisioningConfig } from './provisioning.config';
import type { ProvisioningConfig } from './provisioning.config';
import { ProvisioningMetrics } from './provisioning.metrics';
import { ProvisioningStateService } from './provisioning-state.service';
import { ReconciliationTrigger } from './reconciliation.trigger';

/**
 * The grant lifecycle. Needs the messaging module's bus and registry (the service kit provides them).
 * Without an explicit config it reads PROVISIONING_* from the environment when Nest builds the app.
 */
@Module({})
export class GrantsModule {
  static forRoot(config?: ProvisioningConfig): DynamicModule {
    return {
      module: GrantsModule,
      controllers: [GrantsHandler],
      providers: [
        config ? { provide: PROVISIONING_CONFIG, useValue: config } : { provide: PROVISIONING_CONFIG, useFactory: () => loadProvisioningConfig() },
        ProvisioningStateService,
        ReconciliationTrigger,
        ProvisioningMetrics,
      ],
      exports: [PROVISIONING_CONFIG, ProvisioningStateService],
    };
  }
}
