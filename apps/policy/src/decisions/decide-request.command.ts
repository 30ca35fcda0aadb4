import { Inject } from '@nestjs/common';
import { Command, CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import type { Envelope, RequestSubmittedData } from '@grantline/contracts';
import { awaitedBy } from '../domain';
import type { DecisionRecorded, PolicyCommand, PolicyDecider } from '../domain';
import type { Bundle } from '@grantline/policy-engine';
import { readsBreakGlassReviewsBeyondBreakGlass } from './break-glass-fence';
import { DirectoryWaitService } from './directory-wait.service';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { POLICY_DECIDER } from './policy-decider.provider';
import { PolicyStateService } from './policy-state.service';

/** Decide a submitted request. Its result is the decision to publish, or nothing while the request waits. */
export class DecideRequest extends Command<readonly DecisionRecorded[]> {
  constructor(readonly request: Envelope<RequestSubmittedData>) {
    super();
  }
}

/**
 * The decider, run for one request: on the loaded state, once it holds every identity and catalogue fact published
 * before the request was received (else after a catch-up); when it lacks a fact the request names, after reading the
 * state topics up to their end once (the live consumer may just not have reached a fact published before the
 * request; concurrent requests share one such catch-up); still lacking it, the request waits (`DirectoryWaitService`).
 */
@CommandHandler(DecideRequest)
export class DecideRequestHandler implements ICommandHandler<DecideRequest> {
  constructor(
    private readonly state: PolicyStateService,
    @Inject(POLICY_DECIDER) private readonly decider: PolicyDecider,
    private readonly directoryWait: DirectoryWaitService,
    @Inject(POLICY_BUNDLE) bundle: Bundle,
  ) {
    this.breakGlassReviewsForEveryRequest = readsBreakGlassReviewsBeyondBreakGlass(bundle);
  }

  /** Whether the bundle reads the open break-glass reviews for ordinary requests too (else for break-glass ones only). */
  private readonly breakGlassReviewsForEveryRequest: boolean;

  async execute({ request }: DecideRequest): Promise<readonly DecisionRecorded[]> {
    const mark = this.state.catchUpMark();
    const freshness = this.state.freshnessMark();
    await this.state.whenLoaded();
    // A fact published before the request and not folded yet would make the decision one on stale facts.
    await this.state.ensureFreshFacts(freshness, {
      breakGlassReviews: this.breakGlassReviewsForEveryRequest || request.data.emergency?.breakGlass === true,
    });
    const decided = this.decider.decide({ request, waitedOut: false }, this.state.current);
    if (decided.length > 0) return decided;
    await this.state.catchUp(mark);
    const command: PolicyCommand = { request, waitedOut: !this.directoryWait.waits };
    const afterCatchUp = this.decider.decide(command, this.state.current);
    if (afterCatchUp.length > 0) {
      // A redelivery of a parked request: decided here, so not once more when its wait ends.
      this.directoryWait.release(request.id);
      return afterCatchUp;
    }
    if (this.directoryWait.park(request, awaitedBy(command, this.state.current))) return [];
    // The service stopped meanwhile: nothing in this process would decide it later.
    return this.decider.decide({ request, waitedOut: true }, this.state.current);
  }
}
