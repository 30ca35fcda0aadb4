import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ApprovalBreakGlassGranted,
  ApprovalRequestApproved,
  CatalogPublished,
  ConnectorDeprovisioned,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorStateReported,
  IdentityOffboarded,
  IdentityUpserted,
  RequestWithdrawn,
  RevocationRequested,
  TimerFired,
} from '@grantline/contracts';
import type { Envelope, EventRegistry, StateReportedData } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import { StateReportAssembler, decide, reconcile } from '../domain';
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
  /** Reports whose pages are still arriving (in memory: a report cut by a restart is redone by the next one). */
  private readonly reports = new StateReportAssembler();

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

  /**
   * Reconciliation: a connector's report of what its target holds, one page at a time; the last page completes it
   * and the comparison with the grants is published as drift findings and a summary.
   */
  @EventPattern(ConnectorStateReported.type)
  async onStateReported(@Payload() event: Envelope<StateReportedData>, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    await this.stateService.whenLoaded();
    return this.once(context, () => {
      if (!this.config.connectorIds.includes(event.data.connectorId)) return [];
      const report = this.reports.add(event.data);
      if (report === undefined) return [];
      const events = reconcile(event, report, this.stateService.state, { registry: this.registry, eventId: deterministicEventId });
      const summary = events.at(-1)?.data;
      this.logger.log({ msg: 'reconciled', connectorId: report.connectorId, reportId: report.reportId, summary });
      return events;
    });
  }

  private async decide(event: Envelope, context: KafkaEventContext): Promise<Envelope[]> {
    await this.stateService.whenLoaded();
    return this.once(context, () => {
      const { state } = this.stateService;
      const decision = decide(event, state, { registry: this.registry, eventId: deterministicEventId, ...this.config });
      for (const output of decision.events) state.apply(output);
      for (const reason of decision.skipped) this.logger.warn({ msg: 'input left alone', type: event.type, id: event.id, reason });
      return decision.events;
    });
  }

  /** Computes the outputs for a log position once; a redelivery of that position gets the same outputs. */
  private once(context: KafkaEventContext, compute: () => Envelope[]): Envelope[] {
    const { topic, partition, offset } = context.message;
    const position = `${topic}/${partition}/${offset}`;
    const earlier = this.decisions.get(position);
    if (earlier) return earlier;
    const outputs = compute();
    this.remember(position, outputs);
    return outputs;
  }

  private remember(position: string, events: Envelope[]): void {
    this.decisions.set(position, events);
    if (this.decisions.size > DECISION_MEMORY) {
      const oldest = this.decisions.keys().next();
      if (!oldest.done) this.decisions.delete(oldest.value);
    }
  }
}
