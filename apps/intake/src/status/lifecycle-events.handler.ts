import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ItsmRequestReceived } from '@grantline/contracts';
import type { Envelope, EnvelopeOf, EventRegistry } from '@grantline/contracts';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import { CatalogService } from '../catalog/catalog.service';
import { evaluateItsmRequest, submittedFromTicket, ticketStatus } from '../itsm/itsm-request.mapper';
import { RequestStatusStore } from './request-status.store';

/** Every event that moves a request along its lifecycle. */
export const LIFECYCLE_EVENT_TYPES = [
  'iga.request.submitted.v2',
  'iga.request.withdrawn.v1',
  'iga.revocation.requested.v1',
  'iga.policy.decision-recorded.v1',
  'iga.approval.task-opened.v1',
  'iga.approval.decision-recorded.v1',
  'iga.approval.request-approved.v1',
  'iga.approval.request-denied.v1',
  'iga.approval.break-glass-granted.v1',
  'iga.grant.created.v1',
  'iga.grant.activated.v1',
  'iga.grant.revoked.v1',
  'iga.grant.provisioning-failed.v1',
] as const;

/**
 * Consumes the lifecycle of every request: keeps the read model behind `GET /v1/requests/:id`, and tells the
 * ticket of each ITSM-originated request every status change (so a ticket closes only when access is really
 * provisioned or really revoked). Also takes requests from the inbound ITSM topic.
 */
@Controller()
export class LifecycleEventsHandler {
  constructor(
    private readonly statuses: RequestStatusStore,
    private readonly catalog: CatalogService,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  @EventPattern([...LIFECYCLE_EVENT_TYPES])
  async onLifecycleEvent(@Payload() event: Envelope): Promise<Envelope[]> {
    const evolution = await this.statuses.apply(event);
    const view = evolution?.view;
    if (!evolution?.ticketStatus || !view || view.channel !== 'itsm' || view.ticket === undefined) return [];
    return [ticketStatus(this.registry, event, { ticket: view.ticket, requestId: view.requestId, ...evolution.ticketStatus })];
  }

  /** A ticket that breaks the rules is answered with `rejected` and the reasons, never dropped. */
  @EventPattern('iga.itsm.request-received.v1')
  async onTicket(@Payload() event: EnvelopeOf<typeof ItsmRequestReceived>): Promise<Envelope[]> {
    const outcome = evaluateItsmRequest(event.data, this.catalog, new Date());
    if (!outcome.accepted) {
      return [ticketStatus(this.registry, event, { ticket: event.data.ticket, status: 'rejected', reasons: outcome.reasons })];
    }
    return [submittedFromTicket(this.registry, event, outcome.data, event.actor)];
  }
}
