import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ApprovalBreakGlassGranted,
  ApprovalRequestApproved,
  CatalogPublished,
  ConnectorStateReported,
  IdentityOffboarded,
  IdentityUpserted,
} from '@grantline/contracts';
import type { Envelope, EventRegistry, StateReportedData } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, KafkaEventContext } from '@grantline/messaging-nest';
import { PROVISIONING_COMMANDS, ProvisioningState, StateReportAssembler, makeProvisioningDecider, reconcile } from '../domain';
import type { ProvisioningContext, ProvisioningDecider } from '../domain';
import { PROVISIONING_CONFIG } from './provisioning.config';
import type { ProvisioningConfig } from './provisioning.config';
import { ProvisioningStateService } from './provisioning-state.service';

const APPROVALS: ReadonlySet<string> = new Set([ApprovalRequestApproved.type, ApprovalBreakGlassGranted.type]);

/** How many recent decisions are kept to answer a redelivered message identically. */
const DECISION_MEMORY = 2_000;

/**
 * The Kafka edge of provisioning: every command is decided against the state, the resulting grant events are
 * folded into the state at once (the next command must see them), and everything is returned for the transport
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
  private readonly context: ProvisioningContext;
  private readonly decider: ProvisioningDecider;

  constructor(
    private readonly stateService: ProvisioningStateService,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
  ) {
    this.context = { registry, eventId: deterministicEventId, maxAttempts: config.maxAttempts, connectorIds: config.connectorIds };
    this.decider = makeProvisioningDecider(this.context);
  }

  // One array pattern: Nest registers each type; the list is the decider's, so the two cannot drift apart.
  @EventPattern(PROVISIONING_COMMANDS.map((command) => command.type))
  async onCommand(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<Envelope[]> {
    const mark = this.stateService.freshnessMark();
    await this.stateService.whenLoaded();
    // An approval can overtake the offboarding of its beneficiary (another topic): every identity fact published
    // before the approval was received is folded first, so a leaver gets nothing whatever the order.
    if (APPROVALS.has(event.type)) await this.stateService.ensureFresh(mark, this.stateService.topicsOf([IdentityOffboarded]));
    return this.once(context, () => {
      const { state } = this.stateService;
      const events = this.decider.decide(event, state);
      for (const reason of this.decider.explain(event, state)) this.logger.warn({ msg: 'input left alone', type: event.type, id: event.id, reason });
      for (const output of events) state.apply(output);
      // A command that is also a fact (an offboarding, an ownership case) is folded once decided.
      if (ProvisioningState.folds(event)) this.stateService.applyLive(event, context.message);
      return [...events];
    });
  }

  /**
   * The catalogue and the identities are folded only: they decide nothing until a command needs them. (An owner
   * change is a command: it rotates the machine identity's credentials, then is folded.)
   */
  @EventPattern([IdentityUpserted.type, CatalogPublished.type])
  async onStateEvent(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
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
      const { state } = this.stateService;
      const events = reconcile(event, report, state, this.context);
      const summary = events.at(-1)?.data;
      this.logger.log({ msg: 'reconciled', connectorId: report.connectorId, reportId: report.reportId, summary });
      // The connector is reachable again: removals that gave up are retried (after the report, which saw them live).
      const retries = this.decider.decide(event, state);
      for (const output of retries) state.apply(output);
      if (retries.length > 0) this.logger.warn({ msg: 'retrying removals that had given up', connectorId: report.connectorId, events: retries.length });
      return [...events, ...retries];
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
