import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APPROVAL_CLOCK, systemClock } from './approval-clock';
import type { ApprovalClock } from './approval-clock';
import { APPROVAL_CONFIG, loadApprovalConfig } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalTasksController } from './approval-tasks.controller';
import { PRINCIPAL_RESOLVER, principalResolverFor } from './principal';
import type { PrincipalResolver } from './principal';

export interface ApprovalsModuleOptions {
  /** Defaults to the environment (loadApprovalConfig). */
  readonly config?: ApprovalConfig;
  readonly clock?: ApprovalClock;
  /** Defaults to the one the config's AUTH_MODE selects. */
  readonly principalResolver?: PrincipalResolver;
}

/**
 * Approval tasks over Kafka and HTTP. Needs the messaging module's bus and registry (the service kit
 * provides them; specs may provide their own).
 */
@Module({})
export class ApprovalsModule {
  static forRoot(options: ApprovalsModuleOptions = {}): DynamicModule {
    return {
      module: ApprovalsModule,
      controllers: [ApprovalEventsHandler, ApprovalTasksController],
      providers: [
        { provide: APPROVAL_CONFIG, useFactory: () => options.config ?? loadApprovalConfig() },
        { provide: APPROVAL_CLOCK, useValue: options.clock ?? systemClock },
        {
          provide: PRINCIPAL_RESOLVER,
          useFactory: (config: ApprovalConfig) => options.principalResolver ?? principalResolverFor(config.auth),
          inject: [APPROVAL_CONFIG],
        },
        ApprovalStateService,
      ],
      exports: [ApprovalStateService],
    };
  }
}
