import { Inject, Injectable, Logger } from '@nestjs/common';
import { ItsmRequestReceived, ItsmServiceNowItemReceived, MessagingDeadLettered, isEvent } from '@grantline/contracts';
import type { DeadLetteredData, Envelope, EnvelopeOf, EventRegistry, ItsmRequestReceivedData } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { StateReadinessRegistry } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { CLOCK, ConsumerGroup } from '@grantline/service-kit';
import type { GroupEventHandler } from '@grantline/service-kit';
import { CatalogService } from '../catalog/catalog.service';
import { IdentityDirectory } from '../status/request-status.store';
import { fromServiceNowItem, isInboundItsmDeadLetter, rescueInbound } from './itsm-dead-letter.rescue';
import type { InboundRescue } from './itsm-dead-letter.rescue';
import { evaluateItsmRequest, submittedFromTicket, ticketStatus } from './itsm-request.mapper';

/** The intake's second consumer group: `<intake's group>.itsm`. */
export const ITSM_GROUP_SUFFIX = 'itsm';

/**
 * Takes requests from the inbound ITSM topic, and the inbound messages the decoder refused from the dead-letter
 * topic. It runs in a consumer group of its own (ItsmInboundGroup), not in the intake's main group with the read
 * model: a ticket is translated and published even while the status projection works through a backlog. It reads
 * only the identity directory (the requester's standing) and the catalogue, and writes only events.
 */
@Injectable()
export class ItsmInboundHandler {
  private readonly logger = new Logger('itsm');

  constructor(
    private readonly directory: IdentityDirectory,
    private readonly catalog: CatalogService,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Event type → handler, for the consumer group. */
  handlers(): Record<string, GroupEventHandler> {
    return {
      [ItsmRequestReceived.type]: (event) => this.onTicket(event as EnvelopeOf<typeof ItsmRequestReceived>),
      [ItsmServiceNowItemReceived.type]: (event) => this.onServiceNowItem(event as EnvelopeOf<typeof ItsmServiceNowItemReceived>),
      [MessagingDeadLettered.type]: (event) => this.onDeadLetter(event as EnvelopeOf<typeof MessagingDeadLettered>),
    };
  }

  /** A ticket that breaks the rules is answered with `rejected` and the reasons, never dropped. */
  async onTicket(event: EnvelopeOf<typeof ItsmRequestReceived>): Promise<Envelope[]> {
    return this.intake(event, event.data);
  }

  /** A ServiceNow requested item published as-is by the bridge: mapped, then processed like any ticket. */
  async onServiceNowItem(event: EnvelopeOf<typeof ItsmServiceNowItemReceived>): Promise<Envelope[]> {
    return this.answer(event, fromServiceNowItem(event.data, event.id));
  }

  /**
   * Inbound messages the contract decoder refused land on the dead-letter topic: a ServiceNow catalog item is
   * mapped and processed from there, anything else naming a ticket is answered `rejected` with the reasons.
   */
  async onDeadLetter(event: EnvelopeOf<typeof MessagingDeadLettered>): Promise<Envelope[]> {
    if (!isInboundItsmDeadLetter(event.data)) return [];
    if (this.bus.readRecords === undefined)
      return this.answer(event, { kind: 'unanswerable', reason: 'this transport cannot read the original back by reference' });
    return this.answer(event, rescueInbound(event.data, await this.originalOf(event.data, this.bus.readRecords.bind(this.bus))));
  }

  /**
   * A dead letter keeps a reference, never the bytes: the message is read back from the inbound topic. A failed read
   * throws, so the dead letter is retried (never skipped); undefined when the log no longer holds the record.
   */
  private async originalOf(dead: DeadLetteredData, read: NonNullable<MessageBus['readRecords']>): Promise<Buffer | null | undefined> {
    const [record] = await read([dead.origin]);
    return record === undefined ? undefined : record.value;
  }

  private async answer(event: Envelope, rescue: InboundRescue): Promise<Envelope[]> {
    switch (rescue.kind) {
      case 'process':
        return this.intake(event, rescue.data);
      case 'reject':
        return [ticketStatus(this.registry, event, { ticket: rescue.ticket, status: 'rejected', reasons: rescue.reasons })];
      case 'unanswerable':
        // It stays on the dead-letter topic for an operator; there is no ticket to tell.
        this.logger.warn(
          `inbound ITSM message ${isEvent(event, MessagingDeadLettered) ? `at ${event.data.origin.partition}/${event.data.origin.offset}` : event.id} cannot be answered: ${rescue.reason}`,
        );
        return [];
    }
  }

  /**
   * A ticket is authorised exactly like an API request by the person it names: that person must be a known, active
   * human identity (the API requires a person's token). The request's actor is that person; the bridge that carried
   * the ticket stays on record as the actor of the inbound event this one is caused by, and the channel says itsm.
   */
  private async intake(cause: Envelope, data: ItsmRequestReceivedData): Promise<Envelope[]> {
    const requester = await this.directory.standing(data.requesterId);
    const refusal =
      requester === undefined
        ? `requesterId: ${data.requesterId} is not a known identity`
        : requester.kind !== 'human'
          ? `requesterId: ${data.requesterId} is a ${requester.kind}, not a person`
          : requester.status !== 'active'
            ? `requesterId: ${data.requesterId} is ${requester.status}`
            : undefined;
    if (refusal !== undefined) return [ticketStatus(this.registry, cause, { ticket: data.ticket, status: 'rejected', reasons: [refusal] })];
    const outcome = evaluateItsmRequest(data, this.catalog, this.clock.now());
    if (!outcome.accepted) return [ticketStatus(this.registry, cause, { ticket: data.ticket, status: 'rejected', reasons: outcome.reasons })];
    return [submittedFromTicket(this.registry, cause, outcome.data, { kind: 'user', id: data.requesterId })];
  }
}

/** The ITSM group as a provider: registered with the service's states (readiness), started by main.ts with `startConsumerGroups`. */
export const ItsmInboundGroup = Symbol('ItsmInboundGroup');

export const itsmInboundGroupProvider = {
  provide: ItsmInboundGroup,
  // A module built without the service kit (a spec's) has no readiness registry: the group then has one of its own.
  useFactory: (handler: ItsmInboundHandler, bus: MessageBus, registry: EventRegistry, states: StateReadinessRegistry | undefined): ConsumerGroup =>
    new ConsumerGroup({ bus, registry, states: states ?? new StateReadinessRegistry() }, { suffix: ITSM_GROUP_SUFFIX, handlers: handler.handlers() }),
  inject: [ItsmInboundHandler, MESSAGE_BUS, EVENT_REGISTRY, { token: StateReadinessRegistry, optional: true }],
};
