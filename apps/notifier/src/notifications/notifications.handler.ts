import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ApprovalBreakGlassGranted, ApprovalReviewOpened, GrantCreated, GrantDriftDetected, GrantProvisioningFailed, GrantReconciliationCompleted } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import { derive } from '../domain';
import type { DeriveContext } from '../domain';
import { NOTIFIER_CONFIG } from './notifier.config';
import type { NotifierConfig } from './notifier.config';
import { NotifierStateService } from './notifier-state.service';

/** How many recent derivations are kept to answer a redelivered message identically. */
const DERIVATION_MEMORY = 2_000;

/**
 * The Kafka edge of the notifier: every fact is folded into the state, the notifications it asks for are
 * derived, folded in too (so the next fact sees them as already asked) and returned for the transport to
 * publish in the same Kafka transaction as the consumed offset.
 */
@Controller()
export class NotificationsHandler {
  private readonly logger = new Logger('notifier');
  /**
   * Outputs by log position. The state already knows a notification was asked for when the transaction
   * publishing it aborts; the redelivered message must then get the same events again, not "already asked".
   */
  private readonly derivations = new Map<string, Envelope[]>();
  private readonly context: DeriveContext;

  constructor(
    private readonly stateService: NotifierStateService,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
  ) {
    this.context = { registry, eventId: deterministicEventId, securityGroupId: config.securityGroupId, alertGroupId: config.alertGroupId };
  }

  @EventPattern(ApprovalBreakGlassGranted.type)
  onBreakGlassGranted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  @EventPattern(ApprovalReviewOpened.type)
  onReviewOpened(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  @EventPattern(GrantCreated.type)
  onGrantCreated(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  @EventPattern(GrantProvisioningFailed.type)
  onProvisioningFailed(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  @EventPattern(GrantDriftDetected.type)
  onDriftDetected(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  /** Folded only: which reconciliation came before a finding tells a new drift from one still open. */
  @EventPattern(GrantReconciliationCompleted.type)
  onReconciliationCompleted(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    return this.react(event, context);
  }

  private async react(event: Envelope, context: KafkaEventContext): Promise<Envelope[]> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    const position = `${topic}/${partition}/${offset}`;
    const earlier = this.derivations.get(position);
    if (earlier) return earlier;
    this.stateService.applyLive(event, context.message);
    const { state } = this.stateService;
    const derivation = derive(event, state, this.context);
    for (const output of derivation.events) state.apply(output);
    for (const reason of derivation.skipped) this.logger.warn({ msg: 'notification incomplete', type: event.type, id: event.id, reason });
    this.remember(position, derivation.events);
    return derivation.events;
  }

  private remember(position: string, events: Envelope[]): void {
    this.derivations.set(position, events);
    if (this.derivations.size > DERIVATION_MEMORY) {
      const oldest = this.derivations.keys().next();
      if (!oldest.done) this.derivations.delete(oldest.value);
    }
  }
}
