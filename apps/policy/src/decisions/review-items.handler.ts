import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ApprovalCampaignStarted, PolicyDecisionRecorded, PolicyReviewItemsEvaluated } from '@grantline/contracts';
import type { CampaignStartedData, Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { REVIEW_REEVALUATION_EVENTS, makeReviewReevaluationDecider, requestsWithoutDecision } from '../domain';
import type { ReviewReevaluationDecider } from '../domain';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { PolicyStateService } from './policy-state.service';

/**
 * What today's bundle would decide for each item of a recertification campaign (issue 13, ADR 0020): the approval
 * service's `campaign-started` in, one `iga.policy.review-items-evaluated` out (returned for the transport to publish
 * on the decisions topic). The recorded inputs are policy's own decisions, folded from its decisions topic.
 */
@Controller()
export class ReviewItemsHandler {
  private readonly decider: ReviewReevaluationDecider;

  constructor(
    private readonly stateService: PolicyStateService,
    @Inject(POLICY_BUNDLE) bundle: Bundle,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
  ) {
    this.decider = makeReviewReevaluationDecider({ bundle, registry, eventId: deterministicEventId });
  }

  @EventPattern(ApprovalCampaignStarted.type)
  async onCampaignStarted(@Payload() event: Envelope<CampaignStartedData>): Promise<readonly Envelope[]> {
    const mark = this.stateService.freshnessMark();
    await this.stateService.whenLoaded();
    // Every granted request was decided long before its campaign, but on another topic: a decision the live consumer
    // has not folded yet is read from the log first, so an item is never reported unknown only because of lag.
    if (requestsWithoutDecision(event.data, this.stateService.recordedDecisions).length > 0) {
      await this.stateService.ensureFresh(mark, this.stateService.topicsOf(REVIEW_REEVALUATION_EVENTS));
    }
    return this.decider.decide({ campaign: event }, this.stateService.recordedDecisions);
  }

  /** Policy's own records, read back: the input each decision was made on, and the campaigns already answered. */
  @EventPattern([PolicyDecisionRecorded.type, PolicyReviewItemsEvaluated.type])
  async onOwnRecord(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    this.stateService.applyLive(event, { topic, partition, offset });
  }
}
