import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APPROVAL_CLOCK, systemClock } from './approval-clock';
import type { ApprovalClock } from './approval-clock';
import { APPROVAL_CONFIG, loadApprovalConfig } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalTasksController } from './approval-tasks.controller';
import { BEARER_AUTHENTICATOR, BearerAuthGuard, BearerAuthenticator, jwtVerifierFor } from '@grantline/http-edge';

/** Dev mode only: names the caller without a token, for local scripts and specs. */

export interface ApprovalsModuleOptions {
  /** Defaults to the environment (loadApprovalConfig). */
  readonly config?: ApprovalConfig;
  readonly clock?: ApprovalClock;
  /** Defaults to the one the config's AUTH_MODE selects. */
  readonly authenticator?: BearerAuthenticator;
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
          provide: BEARER_AUTHENTICATOR,
          useFactory: (config: ApprovalConfig): BearerAuthenticator =>
            options.authenticator ??
            new BearerAuthenticator(jwtVerifierFor(config.auth)),
          inject: [APPROVAL_CONFIG],
        },
        BearerAuthGuard,
        ApprovalStateService,
      ],
      exports: [ApprovalStateService],
    };
  }
}
