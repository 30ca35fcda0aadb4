import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ApprovalBreakGlassGranted,
  ApprovalRequestApproved,
  CatalogPublished,
  ConnectorDeprovisioned,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  IdentityOffboarded,
  IdentityUpserted,
  RequestWithdrawn,
  RevocationRequested,
  TimerFired,
} from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import { decide } from '../domain';
import { PROVISIONING_CONFIG } from './provisioning.config';
import type { ProvisioningConfig } from './provisioning.config';
import { ProvisioningStateService } from './provisioning-state.service';

/** How many recent decisions are kept to answer a redelivered message identically. */
const DECISION_MEMORY = 2_000;

/**
 * The Kafka edge of provisioning: every input is decided against the state, the resulting grant events are
 * folded into the state at once (the next input must see them), and everything is returned for the transport
 * to publish — in the same Kafka transaction as the consumed offset.
 */
@Controller()
export class GrantsHandler {
  private readonly logger = new Logger('provisioning');
  /**
   * Outputs by log position. The state already contains a decision's events when the transaction publishing
   * them aborts; the redelivered message must then get the same events again, not "nothing to do".
   */
  private readonly decisions = new Map<string, Envelope[]>();

  constructor(
    private readonly stateService: ProvisioningStateService,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  @EventPattern(ApprovalRequestApproved.type)
  onRequestApproved(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(ApprovalBreakGlassGranted.type)
  onBreakGlassGranted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(ConnectorProvisioned.type)
  onProvisioned(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(ConnectorDeprovisioned.type)
  onDeprovisioned(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(ConnectorOperationFailed.type)
  onOperationFailed(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(TimerFired.type)
  onTimerFired(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(RequestWithdrawn.type)
  onWithdrawn(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(RevocationRequested.type)
  onRevocationRequested(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(IdentityOffboarded.type)
  onOffboarded(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.decide(event, context);
  }

  @EventPattern(IdentityUpserted.type)
  async onIdentityUpserted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.stateService.whenLoaded();
    this.stateService.applyLive(event, context.message);
  }

  @EventPattern(CatalogPublished.type)
  async onCatalogPublished(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.stateService.whenLoaded();
    this.stateService.applyLive(event, context.message);
  }

  private async decide(event: Envelope, context: KafkaEventContext): Promise<Envelope[]> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    const position = `${topic}/${partition}/${offset}`;
    const earlier = this.decisions.get(position);
    if (earlier) return earlier;
    const { state } = this.stateService;
    const decision = decide(event, state, { registry: this.registry, ...this.config });
    for (const output of decision.events) state.apply(output);
    for (const reason of decision.skipped) this.logger.warn({ msg: 'input left alone', type: event.type, id: event.id, reason });
    this.remember(position, decision.events);
    return decision.events;
  }

  private remember(position: string, events: Envelope[]): void {
    this.decisions.set(position, events);
    if (this.decisions.size > DECISION_MEMORY) {
      const oldest = this.decisions.keys().next();
      if (!oldest.done) this.decisions.delete(oldest.value);
    }
  }
}
