import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CLOCK, clockProvider } from '@grantline/service-kit';
import { BundleAnnouncer } from './bundle-announcer';
import { DecideRequestHandler } from './decide-request.command';
import { DecisionsHandler } from './decisions.handler';
import { DirectoryWaitService } from './directory-wait.service';
import { POLICY_CONFIG, loadPolicyConfig } from './policy.config';
import { POLICY_BUNDLE, loadPolicyBundle } from './policy-bundle.provider';
import { policyDeciderProvider } from './policy-decider.provider';
import { PolicyStateService } from './policy-state.service';
import { ReviewItemsHandler } from './review-items.handler';

/**
 * Decides requests with the bundle loaded at start. Needs the messaging module's bus and registry
 * (the service kit provides them; specs provide their own with spec-specific topics).
 */
@Module({
  imports: [CqrsModule.forRoot()],
  controllers: [DecisionsHandler, ReviewItemsHandler],
  providers: [
    { provide: POLICY_BUNDLE, useFactory: () => loadPolicyBundle() },
    clockProvider(),
    { provide: POLICY_CONFIG, useFactory: () => loadPolicyConfig() },
    policyDeciderProvider,
    PolicyStateService,
    DirectoryWaitService,
    DecideRequestHandler,
    BundleAnnouncer,
  ],
  exports: [POLICY_BUNDLE, CLOCK, POLICY_CONFIG, PolicyStateService, DirectoryWaitService],
})
export class DecisionsModule {}
