import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityOwnerTransferProposed,
  IdentityUpserted,
  ItsmRequestReceived,
  ItsmServiceNowItemReceived,
  MessagingDeadLettered,
  isEvent,
} from '@grantline/contracts';
import type { DeadLetteredData, Envelope, EnvelopeOf, EventRegistry, ItsmRequestReceivedData } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { CLOCK } from '@grantline/service-kit';
import { CatalogService } from '../catalog/catalog.service';
import { fromServiceNowItem, isInboundItsmDeadLetter, rescueInbound } from '../itsm/itsm-dead-letter.rescue';
import type { InboundRescue } from '../itsm/itsm-dead-letter.rescue';
import { evaluateItsmRequest, submittedFromTicket, ticketStatus } from '../itsm/itsm-request.mapper';
import { OwnerTransfers } from '../identities/owner-transfers.store';
import { PROJECTED_EVENT_TYPES } from './request-status.projection';
import { IdentityDirectory, RequestStatusStore, RevocationTickets } from './request-status.store';

/** Every event that moves a request along its lifecycle. */
export const LIFECYCLE_EVENT_TYPES = PROJECTED_EVENT_TYPES;

/**
 * Consumes the lifecycle of every request: keeps the read model behind `GET /v1/requests/:id`, and tells the
 * ticket of each ITSM-originated request every status change (so a ticket closes only when access is really
 * provisioned or really revoked). Also takes requests from the inbound ITSM topic.
 */
@Controller()
export class LifecycleEventsHandler {
  private readonly logger = new Logger('itsm');

  constructor(
    private readonly statuses: RequestStatusStore,
    private readonly revocationTickets: RevocationTickets,
    private readonly directory: IdentityDirectory,
    private readonly catalog: CatalogService,
    private readonly transfers: OwnerTransfers,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @EventPattern([...LIFECYCLE_EVENT_TYPES])
  async onLifecycleEvent(@Payload() event: Envelope): Promise<Envelope[]> {
    // This event's change and those of the events it released from parking, in the order they were applied; each
    // status derives its id from the event that caused it, so a redelivery repeats the same status events.
    const outputs: Envelope[] = [];
    for (const { event: cause, view, ticketStatus: change } of await this.statuses.apply(event)) {
      if (change && view.channel === 'itsm' && view.ticket !== undefined) {
        outputs.push(ticketStatus(this.registry, cause, { ticket: view.ticket, requestId: view.requestId, ...change }));
      }
    }
    if (isEvent(event, GrantRevoked)) outputs.push(...(await this.answerRevocationTickets(event)));
    return outputs;
  }

  /**
   * Tickets that asked for this grant's revocation hear `revoked` only now, once provisioning reports the access
   * removed. Marked answered after the status is returned for publication: a crash in between repeats the same
   * status event (same id), never loses it.
   */
  private async answerRevocationTickets(event: EnvelopeOf<typeof GrantRevoked>): Promise<Envelope[]> {
    const waiting = await this.revocationTickets.waitingFor(event.data.grantId);
    const statuses = waiting.map((follower) =>
      ticketStatus(this.registry, event, {
        ticket: follower.ticket,
        ...(follower.requestId === undefined ? {} : { requestId: follower.requestId }),
        status: 'revoked',
        reasons: [`grant ${event.data.grantId} revoked (${event.data.reason}) at ${event.data.revokedAt}`],
      }),
    );
    for (const follower of waiting) await this.revocationTickets.answered(follower.revocationId);
    return statuses;
  }

  /**
   * The identity directory (kind, manager, owner of record) is a projection of the intake's own identity events:
   * the HTTP path writes it at once, and replaying the topic rebuilds it after the database is dropped.
   */
  @EventPattern(['iga.identity.upserted.v1', 'iga.identity.offboarded.v1', 'iga.identity.owner-changed.v1', 'iga.identity.owner-transfer-proposed.v1'])
  async onIdentityEvent(@Payload() event: Envelope): Promise<Envelope[]> {
    if (isEvent(event, IdentityUpserted)) {
      await this.directory.remember(event.data.identity);
    } else if (isEvent(event, IdentityOffboarded)) {
      await this.directory.markOffboarded(event.data.identityId);
    } else if (isEvent(event, IdentityOwnerChanged)) {
      await this.directory.changeOwner(event.data.identityId, event.data.newOwnerId);
      await this.transfers.ownerChanged(event.data.identityId, event.data.newOwnerId);
    } else if (isEvent(event, IdentityOwnerTransferProposed)) {
      await this.transfers.proposed(event.data);
    }
    return [];
  }

  /** A ticket that breaks the rules is answered with `rejected` and the reasons, never dropped. */
  @EventPattern('iga.itsm.request-received.v1')
  async onTicket(@Payload() event: EnvelopeOf<typeof ItsmRequestReceived>): Promise<Envelope[]> {
    return this.intake(event, event.data);
  }

  /** A ServiceNow requested item published as-is by the bridge: mapped, then processed like any ticket. */
  @EventPattern('iga.itsm.servicenow-item-received.v1')
  async onServiceNowItem(@Payload() event: EnvelopeOf<typeof ItsmServiceNowItemReceived>): Promise<Envelope[]> {
    return this.answer(event, fromServiceNowItem(event.data, event.id));
  }

  /**
   * Inbound messages the contract decoder refused land on the dead-letter topic: a ServiceNow catalog item is
   * mapped and processed from there, anything else naming a ticket is answered `rejected` with the reasons.
   */
  @EventPattern('iga.messaging.dead-lettered.v2')
  async onDeadLetter(@Payload() event: EnvelopeOf<typeof MessagingDeadLettered>): Promise<Envelope[]> {
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
