import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantProvisioningFailed,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  RequestSubmitted,
} from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { decideRequest } from './decide-request';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { PolicyStateService } from './policy-state.service';

/**
 * The policy service's Kafka edge: state events keep the in-memory view current; each submitted request
 * becomes one recorded decision, returned for the transport to publish to the decisions topic.
 */
@Controller()
export class DecisionsHandler {
  constructor(
    private readonly stateService: PolicyStateService,
    @Inject(POLICY_BUNDLE) private readonly bundle: Bundle,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  @EventPattern(RequestSubmitted.type)
  async onRequestSubmitted(@Payload() event: Envelope<RequestSubmittedData>): Promise<Envelope<DecisionRecordedData>[]> {
    const receivedAt = Date.now();
    await this.stateService.whenLoaded();
    const decision = decideRequest(event, this.stateService.state, this.bundle, this.registry);
    if (decision.data.engine !== 'builtin') return [decision];
    // Refused for something unknown: make sure it is not only an identity or catalogue event not consumed yet.
    await this.stateService.catchUp(receivedAt);
    return [decideRequest(event, this.stateService.state, this.bundle, this.registry)];
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

  /** After the start-up replay, so a live event older than what the replay applied is recognised and skipped. */
  private async track(event: Envelope, context: KafkaEventContext): Promise<void> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    this.stateService.apply(event, { topic, partition, offset });
  }
}
