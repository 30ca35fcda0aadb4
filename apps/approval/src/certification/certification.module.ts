import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Clock } from '@grantline/decider';
import { clockProvider } from '@grantline/service-kit';
import { CampaignsController } from './campaigns.controller';
import { CERTIFICATION_COMMAND_HANDLERS } from './certification-command-handlers';
import { CertificationEventsHandler, CertificationFactsService } from './certification-events.handler';
import { CERTIFICATION_FACTS } from './certification-facts';
import { CertificationStateService } from './certification-state.service';
import { CERTIFICATION_CONFIG, loadCertificationConfig } from './certification.config';
import type { CertificationConfig } from './certification.config';

export interface CertificationModuleOptions {
  /** Defaults to the environment (APPROVAL_CAMPAIGNS_DIR, else catalog/campaigns). */
  readonly config?: CertificationConfig;
  readonly clock?: Clock;
  /** The approvals module instance of the service (ApprovalsModule.forRoot(...)): certification reads its state. */
  readonly approvals: DynamicModule;
}

/**
 * Recertification campaigns and micro-certifications, beside the approvals (the same runtime: replayed state, a pure
 * decider, @nestjs/cqrs handlers). Global so the approvals' Kafka edge finds the CertificationFacts port it hands
 * identity, request and timer facts to (it is optional there).
 */
@Module({})
export class CertificationModule {
  static forRoot(options: CertificationModuleOptions): DynamicModule {
    return {
      module: CertificationModule,
      global: true,
      imports: [options.approvals],
      controllers: [CertificationEventsHandler, CampaignsController],
      providers: [
        { provide: CERTIFICATION_CONFIG, useFactory: () => options.config ?? loadCertificationConfig() },
        clockProvider(options.clock),
        CertificationStateService,
        CertificationFactsService,
        { provide: CERTIFICATION_FACTS, useExisting: CertificationFactsService },
        ...CERTIFICATION_COMMAND_HANDLERS,
      ],
      exports: [CERTIFICATION_FACTS, CertificationStateService],
    };
  }
}
