import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  GrantCreated,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantReconciliationCompleted,
} from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import { makeNotifierDecider } from '../domain';
import type { NotifierDecider } from '../domain';
import { NOTIFIER_CONFIG } from './notifier.config';
import type { NotifierConfig } from './notifier.config';
import { NotifierStateService } from './notifier-state.service';

/** How many recent derivations are kept to answer a redelivered message identically. */
const DERIVATION_MEMORY = 2_000;

/**
 * The facts the notifier consumes. A reconciliation's completion only folds: which one came before a finding tells
 * a new drift from one still open.
 */
const FACTS = [
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  GrantCreated,
  GrantProvisioningFailed,
  GrantDriftDetected,
  GrantReconciliationCompleted,
] as const;

/**
 * The Kafka edge of the notifier: the notifications a fact asks for are decided, the fact and the notifications are
 * folded into the state (so the next fact sees them as already asked) and the notifications are returned for the
 * transport to publish in the same Kafka transaction as the consumed offset.
 */
@Controller()
export class NotificationsHandler {
  private readonly logger = new Logger('notifier');
  /**
   * Outputs by log position. The state already knows a notification was asked for when the transaction
   * publishing it aborts; the redelivered message must then get the same events again, not "already asked".
   */
  private readonly derivations = new Map<string, Envelope[]>();
  private readonly decider: NotifierDecider;

  constructor(
    private readonly stateService: NotifierStateService,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
  ) {
    this.decider = makeNotifierDecider({ registry, eventId: deterministicEventId, securityGroupId: config.securityGroupId, alertGroupId: config.alertGroupId });
  }

  // One array pattern: Nest registers each type.
  @EventPattern(FACTS.map((fact) => fact.type))
  async onFact(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    await this.stateService.whenLoaded();
    const { topic, partition, offset } = context.message;
    const position = `${topic}/${partition}/${offset}`;
    const earlier = this.derivations.get(position);
    if (earlier) return earlier;
    const { state } = this.stateService;
    const events = [...this.decider.decide(event, state)];
    for (const reason of this.decider.explain(event, state)) this.logger.warn({ msg: 'notification incomplete', type: event.type, id: event.id, reason });
    this.stateService.applyLive(event, context.message);
    for (const output of events) state.apply(output);
    this.remember(position, events);
    return events;
  }

  private remember(position: string, events: Envelope[]): void {
    this.derivations.set(position, events);
    if (this.derivations.size > DERIVATION_MEMORY) {
      const oldest = this.derivations.keys().next();
      if (!oldest.done) this.derivations.delete(oldest.value);
    }
  }
}
