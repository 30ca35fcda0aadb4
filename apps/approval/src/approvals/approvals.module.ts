import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Clock } from '@grantline/decider';
import { clockProvider } from '@grantline/service-kit';
import { APPROVAL_CONFIG, loadApprovalConfig } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ApprovalAccess } from './approval-access.service';
import { APPROVAL_COMMAND_HANDLERS } from './approval-command-handlers';
import { ApprovalEventsHandler } from './approval-events.handler';
import { REVIEW_COMMAND_HANDLERS } from './approval-review.handlers';
import { ApprovalReviewsController } from './approval-reviews.controller';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalTasksController } from './approval-tasks.controller';
import { DirectoryWaitService } from './directory-wait.service';

export interface ApprovalsModuleOptions {
  /** Defaults to the environment (loadApprovalConfig). */
  readonly config?: ApprovalConfig;
  /** The time of HTTP answers; the system clock unless a spec pins it (fixedClock). */
  readonly clock?: Clock;
}

/**
 * Approval tasks over Kafka and HTTP: the edges dispatch commands on the CommandBus, whose handlers run the approval
 * decider. Needs the messaging module's bus and registry (the service kit provides them; specs may provide their
 * own) and the kit's ApiAuthModule (bearer authentication, the guard, problem+json and the record of refused
 * attempts), which every service with an API imports the same way.
 */
@Module({})
export class ApprovalsModule {
  static forRoot(options: ApprovalsModuleOptions = {}): DynamicModule {
    return {
      module: ApprovalsModule,
      imports: [CqrsModule.forRoot()],
      controllers: [ApprovalEventsHandler, ApprovalTasksController, ApprovalReviewsController],
      providers: [
        { provide: APPROVAL_CONFIG, useFactory: () => options.config ?? loadApprovalConfig() },
        clockProvider(options.clock),
        ApprovalStateService,
        DirectoryWaitService,
        ApprovalAccess,
        ...APPROVAL_COMMAND_HANDLERS,
        ...REVIEW_COMMAND_HANDLERS,
      ],
      exports: [ApprovalStateService, APPROVAL_CONFIG],
    };
  }
}
