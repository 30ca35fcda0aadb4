import { Module } from '@nestjs/common';
import { BundleAnnouncer } from './bundle-announcer';
import { DecisionsHandler } from './decisions.handler';
import { POLICY_BUNDLE, loadPolicyBundle } from './policy-bundle.provider';
import { POLICY_CLOCK, systemClock } from './policy-clock';
import { PolicyStateService } from './policy-state.service';

/**
 * Decides requests with the bundle loaded at start. Needs the messaging module's bus and registry
 * (the service kit provides them; specs provide their own with spec-specific topics).
 */
@Module({
  controllers: [DecisionsHandler],
  providers: [
    { provide: POLICY_BUNDLE, useFactory: () => loadPolicyBundle() },
    { provide: POLICY_CLOCK, useValue: systemClock },
    PolicyStateService,
    BundleAnnouncer,
  ],
  exports: [POLICY_BUNDLE, POLICY_CLOCK, PolicyStateService],
})
export class DecisionsModule {}
