import { Controller, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Command } from '@nestjs/cqrs';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { PolicyReviewItemsEvaluated, PolicySodViolationDetected, TimerFired, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { LogPosition } from '@grantline/messaging';
import { KafkaEventContext } from '@grantline/messaging-nest';
import type { CertificationFacts } from './certification-facts';
import { ExpireReviews, ObserveFact, StartCampaign } from './certification-commands';
import { CertificationStateService } from './certification-state.service';
import { GRANT_FACT_EVENTS } from './domain/grant-facts';

/**
 * Where facts enter certification: the grants topic, SoD violations and policy's re-evaluation of review items
 * (folded into its campaign) through its own handlers, the facts the approval edge also handles (identities,
 * requests, timers) through the CertificationFacts port. Every one waits for both replays, then runs as a command
 * whose events are published before the offset is committed.
 */
@Injectable()
export class CertificationFactsService implements CertificationFacts {
  constructor(
    private readonly certification: CertificationStateService,
    private readonly commands: CommandBus,
  ) {}

  async observe(fact: Envelope, position?: LogPosition): Promise<void> {
    await this.certification.whenLoaded();
    await this.commands.execute(this.commandOf(fact, position));
  }

  private commandOf(fact: Envelope, position: LogPosition | undefined): Command<unknown> {
    if (isEvent(fact, TimerFired)) {
      const { kind, target, firedAt } = fact.data;
      if (kind === 'campaign_due' && target.campaignId !== undefined) {
        const definitionId = this.certification.stateOf(target.campaignId).scheduled?.definitionId;
        if (definitionId !== undefined) return new StartCampaign(definitionId, 'schedule', { campaignId: target.campaignId, triggerEventId: fact.id });
      }
      if (kind === 'review_deadline' && target.reviewId !== undefined) {
        const campaignId = target.campaignId ?? this.certification.campaignOfItem(target.reviewId) ?? target.reviewId;
        if (this.certification.stateOf(campaignId).campaign !== undefined) return new ExpireReviews(campaignId, fact.id, firedAt);
      }
    }
    return new ObserveFact(fact, position);
  }
}

@Controller()
export class CertificationEventsHandler {
  constructor(private readonly facts: CertificationFactsService) {}

  @EventPattern([...GRANT_FACT_EVENTS.map((def) => def.type), PolicySodViolationDetected.type, PolicyReviewItemsEvaluated.type])
  onFact(@Payload() event: Envelope, @Ctx() context?: KafkaEventContext): Promise<void> {
    if (context === undefined) return this.facts.observe(event);
    const { topic, partition, offset } = context.message;
    return this.facts.observe(event, { topic, partition, offset });
  }
}
