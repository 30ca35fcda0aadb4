import { Module } from '@nestjs/common';
import { BundleAnnouncer } from './bundle-announcer';
import { DecisionsHandler } from './decisions.handler';
import { DirectoryWaitService, WAIT_TIMERS, systemTimers } from './directory-wait.service';
import { POLICY_CONFIG, loadPolicyConfig } from './policy.config';
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
    { provide: POLICY_CONFIG, useFactory: () => loadPolicyConfig() },
    { provide: WAIT_TIMERS, useValue: systemTimers },
    PolicyStateService,
    DirectoryWaitService,
    BundleAnnouncer,
  ],
  exports: [POLICY_BUNDLE, POLICY_CLOCK, PolicyStateService, DirectoryWaitService],
})
export class DecisionsModule {}
