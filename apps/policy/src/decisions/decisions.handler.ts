import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ApprovalBreakGlassGranted,
  ApprovalReviewCompleted,
  ApprovalReviewOpened,
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantReconciliationCompleted,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  RequestSubmitted,
} from '@grantline/contracts';
import type { Envelope, RequestSubmittedData } from '@grantline/contracts';
import { KafkaEventContext } from '@grantline/messaging-nest';
import type { DecisionRecorded } from '../domain';
import { DecideRequest } from './decide-request.command';
import { DirectoryWaitService } from './directory-wait.service';
import { PolicyStateService } from './policy-state.service';

/**
 * The policy service's Kafka edge: state events keep the in-memory view current; each submitted request
 * becomes one recorded decision (`DecideRequest`), returned for the transport to publish to the decisions topic,
 * unless it names an identity or catalogue entry not consumed yet: then it waits (`DirectoryWaitService`), and the
 * state event that makes it decidable publishes its decision.
 */
@Controller()
export class DecisionsHandler {
  constructor(
    private readonly stateService: PolicyStateService,
    private readonly directoryWait: DirectoryWaitService,
    private readonly commands: CommandBus,
  ) {}

  @EventPattern(RequestSubmitted.type)
  async onRequestSubmitted(@Payload() event: Envelope<RequestSubmittedData>): Promise<readonly DecisionRecorded[]> {
    return this.commands.execute(new DecideRequest(event));
  }

  @EventPattern(IdentityUpserted.type)
  onIdentityUpserted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(IdentityOwnerChanged.type)
  onIdentityOwnerChanged(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(IdentityOffboarded.type)
  onIdentityOffboarded(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(CatalogPublished.type)
  onCatalogPublished(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(GrantCreated.type)
  onGrantCreated(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(GrantActivated.type)
  onGrantActivated(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(GrantRevoked.type)
  onGrantRevoked(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(GrantProvisioningFailed.type)
  onGrantProvisioningFailed(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  /** Detective SoD: access found on a target without a grant, and when the target was last compared. */
  @EventPattern(GrantDriftDetected.type)
  onGrantDriftDetected(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  @EventPattern(GrantReconciliationCompleted.type)
  onGrantReconciliationCompleted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  /** Break-glass uses and their post-incident reviews: the next break-glass use waits for the last one's review. */
  @EventPattern([ApprovalBreakGlassGranted.type, ApprovalReviewOpened.type, ApprovalReviewCompleted.type])
  onBreakGlassReviewFact(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    return this.track(event, context);
  }

  /**
   * After the start-up replay, so a live event older than what the replay applied is recognised and skipped.
   * Parked requests are re-checked even when the event was already applied (a catch-up read it first), and
   * before the offset is committed, so a crash cannot lose the decision it unblocked.
   */
  private async track(event: Envelope, context: KafkaEventContext): Promise<void> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    this.stateService.applyLive(event, { topic, partition, offset });
    await this.directoryWait.recheck();
  }
}
