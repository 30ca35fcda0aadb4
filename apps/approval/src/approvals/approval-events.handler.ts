import { Controller, Inject, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Command } from '@nestjs/cqrs';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { KafkaEventContext } from '@grantline/messaging-nest';
import {
  CatalogPublished,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  TimerFired,
} from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData, RequestWithdrawnData, TimerFiredData } from '@grantline/contracts';
import { ApplyDirectoryFact, ExpireTask, RecordWithdrawal, RouteRequest } from './approval-commands';
import { ApprovalStateService } from './approval-state.service';
import { EscalateReview } from './approval-review.handlers';
import { CERTIFICATION_FACTS } from '../certification/certification-facts';
import type { CertificationFacts } from '../certification/certification-facts';

/**
 * The approval service's Kafka edge: each fact becomes a command. The handlers publish what they decide themselves
 * (under the request's lock, before the offset is committed) and return nothing to the transport: the in-memory
 * state may only move on once Kafka has acknowledged the events, and a redelivery decides again on that state with
 * the same event ids.
 */
/** The directory's facts: identities and the catalogue, published by the intake. */
const DIRECTORY_FACTS = [IdentityUpserted, IdentityOwnerChanged, IdentityOffboarded, CatalogPublished];

@Controller()
export class ApprovalEventsHandler {
  constructor(
    private readonly state: ApprovalStateService,
    private readonly commands: CommandBus,
    /** Certification reacts to some of the same facts (a consumer dispatches each type to one handler): handed on after. */
    @Optional() @Inject(CERTIFICATION_FACTS) private readonly certification?: CertificationFacts,
  ) {}

  @EventPattern(RequestSubmitted.type)
  async onRequestSubmitted(@Payload() event: Envelope<RequestSubmittedData>): Promise<void> {
    await this.route(event.data.requestId, event);
    await this.certification?.observe(event);
  }

  @EventPattern(PolicyDecisionRecorded.type)
  onDecisionRecorded(@Payload() event: Envelope<DecisionRecordedData>): Promise<void> {
    return this.route(event.data.requestId, event);
  }

  @EventPattern(RequestWithdrawn.type)
  onRequestWithdrawn(@Payload() event: Envelope<RequestWithdrawnData>): Promise<void> {
    return this.execute(new RecordWithdrawal(event.data.requestId, event));
  }

  @EventPattern(TimerFired.type)
  async onTimerFired(@Payload() event: Envelope<TimerFiredData>): Promise<void> {
    const { kind, target, firedAt } = event.data;
    // Certification's timers: a cadence run, a grant's periodic recertification, a campaign's (or escalated item's) deadline.
    if (kind === 'campaign_due' || kind === 'recertification_due' || (kind === 'review_deadline' && target.campaignId !== undefined)) {
      return this.certification?.observe(event);
    }
    if (kind === 'break_glass_review_due' && target.reviewId !== undefined) {
      return this.execute(new EscalateReview(target.reviewId, event.id, firedAt, target.requestId));
    }
    if (kind !== 'approval_deadline' || target.taskId === undefined) return;
    await this.execute(new ExpireTask(target.taskId, event.id, firedAt, target.requestId));
  }

  @EventPattern(IdentityUpserted.type)
  onIdentityUpserted(@Payload() event: Envelope, @Ctx() context?: KafkaEventContext): Promise<void> {
    return this.applyDirectoryFact(event, context);
  }

  @EventPattern(IdentityOwnerChanged.type)
  onIdentityOwnerChanged(@Payload() event: Envelope, @Ctx() context?: KafkaEventContext): Promise<void> {
    return this.applyDirectoryFact(event, context);
  }

  @EventPattern(IdentityOffboarded.type)
  onIdentityOffboarded(@Payload() event: Envelope, @Ctx() context?: KafkaEventContext): Promise<void> {
    return this.applyDirectoryFact(event, context);
  }

  @EventPattern(CatalogPublished.type)
  onCatalogPublished(@Payload() event: Envelope, @Ctx() context?: KafkaEventContext): Promise<void> {
    return this.applyDirectoryFact(event, context);
  }

  /**
   * Routes on a directory that holds every identity and catalogue fact published before the input was received:
   * a manager changed a moment before the request must not leave the old manager as its approver.
   */
  private async route(requestId: string, fact: Envelope): Promise<void> {
    const mark = this.state.freshnessMark();
    await this.state.whenLoaded();
    await this.state.ensureFresh(mark, this.state.topicsOf(DIRECTORY_FACTS));
    await this.commands.execute(new RouteRequest(requestId, fact));
  }

  /** Without a context (a caller that is not the consumer), the fact is folded without a position. */
  private async applyDirectoryFact(event: Envelope, context: KafkaEventContext | undefined): Promise<void> {
    if (context === undefined) {
      await this.execute(new ApplyDirectoryFact(event));
      await this.certification?.observe(event);
      return;
    }
    const { topic, partition, offset } = context.message;
    await this.execute(new ApplyDirectoryFact(event, { topic, partition, offset }));
    await this.certification?.observe(event, { topic, partition, offset });
  }

  /**
   * After the start-up replay (and the routes it resumes), so a live event and its replayed copy fold in the same
   * order, nothing is decided from an empty state, and the command handlers are registered.
   */
  private async execute(command: Command<void>): Promise<void> {
    await this.state.whenLoaded();
    await this.commands.execute(command);
  }
}
