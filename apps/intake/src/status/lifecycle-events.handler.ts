import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { GrantRevoked, IdentityOffboarded, IdentityOwnerChanged, IdentityOwnerTransferProposed, IdentityUpserted, isEvent } from '@grantline/contracts';
import type { Envelope, EnvelopeOf, EventRegistry } from '@grantline/contracts';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import { ticketStatus } from '../itsm/itsm-request.mapper';
import { OwnerTransfers } from '../identities/owner-transfers.store';
import { PROJECTED_EVENT_TYPES } from './request-status.projection';
import { IdentityDirectory, RequestStatusStore, RevocationTickets } from './request-status.store';

/** Every event that moves a request along its lifecycle. */
export const LIFECYCLE_EVENT_TYPES = PROJECTED_EVENT_TYPES;

/**
 * The intake's main consumer group: keeps the read model behind `GET /v1/requests/:id` (the only writer of it), and
 * tells the ticket of each ITSM-originated request every status change (so a ticket closes only when access is
 * really provisioned or really revoked); keeps the identity directory. Requests from the inbound ITSM topic are taken
 * by a group of their own (ItsmInboundHandler), so they never wait behind this one's backlog.
 */
@Controller()
export class LifecycleEventsHandler {
  constructor(
    private readonly statuses: RequestStatusStore,
    private readonly revocationTickets: RevocationTickets,
    private readonly directory: IdentityDirectory,
    private readonly transfers: OwnerTransfers,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
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
}
