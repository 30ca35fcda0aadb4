import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityOwnerTransferProposed,
  IdentityOwnershipTransferOpened,
  IdentityUpserted,
  isEvent,
} from '@grantline/contracts';
import type { Envelope, EnvelopeOf, EventRegistry } from '@grantline/contracts';
import type { Decider } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY, EventBatchPattern } from '@grantline/messaging-nest';
import { INTAKE_CONFIG } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';
import { ticketStatus } from '../itsm/itsm-request.mapper';
import { makeLeaverCascadeDecider } from '../identities/leaver-cascade';
import type { LeaverState } from '../identities/leaver-cascade';
import { OwnershipCases } from '../identities/ownership-cases.store';
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
  private readonly leaverCascade: Decider<EnvelopeOf<typeof IdentityOffboarded>, Envelope, LeaverState>;

  constructor(
    private readonly statuses: RequestStatusStore,
    private readonly revocationTickets: RevocationTickets,
    private readonly directory: IdentityDirectory,
    private readonly transfers: OwnerTransfers,
    private readonly cases: OwnershipCases,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(INTAKE_CONFIG) config: IntakeConfig,
  ) {
    this.leaverCascade = makeLeaverCascadeDecider({ registry, eventId: deterministicEventId, policy: config.ownership });
  }

  /**
   * A partition's lifecycle events at once, in log order: the read model reads and writes once per batch (see
   * RequestStatusStore.applyBatch). Returns what each event tells a ticket, in log order: each event's status changes
   * (its own, then those of the events it released from parking), then the revocation tickets it answers. Every status
   * derives its id from the event that caused it, and a redelivered batch tells the same ones again.
   */
  @EventBatchPattern([...LIFECYCLE_EVENT_TYPES])
  async onLifecycleEvents(@Payload() events: Envelope[]): Promise<Envelope[]> {
    const { ticketStatuses } = await this.statuses.applyBatch(events);
    const revocations = await this.answerRevocationTickets(events);
    const outputs: Envelope[] = [];
    let next = 0;
    events.forEach((_event, index) => {
      for (; next < ticketStatuses.length && ticketStatuses[next]!.batchIndex === index; next += 1) {
        const { cause, view, status, reasons } = ticketStatuses[next]!;
        if (view.channel === 'itsm' && view.ticket !== undefined) {
          outputs.push(ticketStatus(this.registry, cause, { ticket: view.ticket, requestId: view.requestId, status, reasons }));
        }
      }
      outputs.push(...(revocations.get(index) ?? []));
    });
    return outputs;
  }

  /**
   * Tickets that asked for a grant's revocation hear `revoked` only now, once provisioning reports the access
   * removed: by the first revocation of the grant in the batch. Told again on a redelivery (same status ids), and
   * marked answered only after the statuses are computed: a crash in between repeats them, never loses them.
   */
  private async answerRevocationTickets(events: readonly Envelope[]): Promise<Map<number, Envelope[]>> {
    const revocations = new Map<string, { index: number; event: EnvelopeOf<typeof GrantRevoked> }>();
    events.forEach((event, index) => {
      if (isEvent(event, GrantRevoked) && !revocations.has(event.data.grantId)) revocations.set(event.data.grantId, { index, event });
    });
    const answers = new Map<number, Envelope[]>();
    if (revocations.size === 0) return answers;
    const followers = await this.revocationTickets.followersOf([...revocations.keys()]);
    for (const follower of followers) {
      const { index, event } = revocations.get(follower.grantId)!;
      const status = ticketStatus(this.registry, event, {
        ticket: follower.ticket,
        ...(follower.requestId === undefined ? {} : { requestId: follower.requestId }),
        status: 'revoked',
        reasons: [`grant ${event.data.grantId} revoked (${event.data.reason}) at ${event.data.revokedAt}`],
      });
      answers.set(index, [...(answers.get(index) ?? []), status]);
    }
    await this.revocationTickets.answered(followers.filter((follower) => !follower.answered).map((follower) => follower.revocationId));
    return answers;
  }

  /**
   * The identity directory (kind, manager, owner of record) is a projection of the intake's own identity events:
   * the HTTP path writes it at once, and replaying the topic rebuilds it after the database is dropped.
   */
  @EventPattern([
    IdentityUpserted.type,
    IdentityOffboarded.type,
    IdentityOwnerChanged.type,
    IdentityOwnerTransferProposed.type,
    IdentityOwnershipTransferOpened.type,
  ])
  async onIdentityEvent(@Payload() event: Envelope): Promise<Envelope[]> {
    if (isEvent(event, IdentityUpserted)) {
      await this.directory.remember(event.data.identity);
    } else if (isEvent(event, IdentityOffboarded)) {
      await this.directory.markOffboarded(event.data.identityId);
      return this.cascadeLeaver(event);
    } else if (isEvent(event, IdentityOwnerChanged)) {
      await this.directory.changeOwner(event.data.identityId, event.data.newOwnerId);
      await this.transfers.ownerChanged(event.data.identityId, event.data.newOwnerId);
      await this.cases.ownerChanged(event.data.identityId, event.data.newOwnerId);
    } else if (isEvent(event, IdentityOwnerTransferProposed)) {
      await this.transfers.proposed(event.data);
    } else if (isEvent(event, IdentityOwnershipTransferOpened)) {
      await this.cases.opened(event.data);
    }
    return [];
  }

  /**
   * The leaver's open requests (and those of the machine identities it owned) are withdrawn, and each of those NHIs
   * gets an ownership transfer case: decided from the event read back from the log, whichever path wrote it (HTTP,
   * SCIM), with ids derived from it, so a redelivery publishes the same events again (duplicates consumers drop).
   * A request the read model does not show yet is not withdrawn here: approval and provisioning refuse to act for a
   * beneficiary who has left, whatever order the events reach them in.
   */
  private async cascadeLeaver(event: EnvelopeOf<typeof IdentityOffboarded>): Promise<Envelope[]> {
    const { identityId, ownedIdentityIds } = event.data;
    const { managerId } = await this.directory.responsibleFor(identityId);
    const manager = managerId === undefined ? undefined : await this.directory.standing(managerId);
    const state: LeaverState = {
      ...(managerId === undefined ? {} : { managerId }),
      managerActive: manager?.kind === 'human' && manager.status === 'active',
      openRequests: await this.statuses.openRequestsFor([identityId, ...ownedIdentityIds]),
    };
    return [...this.leaverCascade.decide(event, state)];
  }
}
