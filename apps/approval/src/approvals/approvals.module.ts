import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APPROVAL_CLOCK, systemClock } from './approval-clock';
import type { ApprovalClock } from './approval-clock';
import { APPROVAL_CONFIG, loadApprovalConfig } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ApprovalAccess } from './approval-access.service';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalTasksController } from './approval-tasks.controller';

export interface ApprovalsModuleOptions {
  /** Defaults to the environment (loadApprovalConfig). */
  readonly config?: ApprovalConfig;
  readonly clock?: ApprovalClock;
}

/**
 * Approval tasks over Kafka and HTTP. Needs the messaging module's bus and registry (the service kit
 * provides them; specs may provide their own) and the kit's ApiAuthModule (bearer authentication, the guard,
 * problem+json and the record of refused attempts), which every service with an API imports the same way.
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
        ApprovalStateService,
        ApprovalAccess,
      ],
      exports: [ApprovalStateService],
    };
  }
}
