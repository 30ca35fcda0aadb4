import { ItsmStatusChanged, RequestSubmitted } from '@grantline/contracts';
import type { Actor, Envelope, EventRegistry, ItsmRequestReceivedData, ItsmStatus, RequestSubmittedData, TicketRef } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EventFactory } from '@grantline/decider';
import type { FieldError } from '@grantline/http-edge';
import { validateSubmission } from '../requests/request-body.schema';
import type { CatalogLookup } from '../requests/request-body.schema';
import { INTAKE_SOURCE } from '../publishing/intake-publisher';

/** A ticket's request id is a function of the ticket: the same ticket delivered twice is one request. */
export function requestIdOfTicket(ticket: TicketRef): string {
  return `req-${deterministicEventId('itsm-ticket', ticket.system, ticket.id)}`;
}

export type ItsmIntakeOutcome =
  { readonly accepted: true; readonly data: RequestSubmittedData } | { readonly accepted: false; readonly reasons: readonly string[] };

/** Applies the same rules as the HTTP API to a ticket; pure. */
export function evaluateItsmRequest(data: ItsmRequestReceivedData, catalog: CatalogLookup, now: Date): ItsmIntakeOutcome {
  const { ticket, requesterId, openedAt: _openedAt, ...rest } = data;
  const body = {
    subject: rest.subject,
    ...('entitlementIds' in rest.items ? { entitlementIds: rest.items.entitlementIds } : { accessPackageId: rest.items.accessPackageId }),
    justification: rest.justification,
    ticket,
    ...(rest.duration === undefined ? {} : { duration: rest.duration }),
    ...(rest.endsAt === undefined ? {} : { endsAt: rest.endsAt }),
    ...(rest.emergency === undefined ? {} : { emergency: rest.emergency }),
  };
  const validation = validateSubmission(body, catalog, now);
  if (!validation.ok) return { accepted: false, reasons: validation.errors.map(reasonOf) };
  return { accepted: true, data: { requestId: requestIdOfTicket(ticket), requesterId, ...validation.value, channel: 'itsm' } };
}

const reasonOf = (error: FieldError): string => `${error.field}: ${error.message}`.slice(0, 500);

const itsmEvents = (registry: EventRegistry): EventFactory =>
  new EventFactory(registry, { source: INTAKE_SOURCE, actor: { kind: 'service', id: 'intake' } }, deterministicEventId);

export function submittedFromTicket(registry: EventRegistry, cause: Envelope, data: RequestSubmittedData, actor: Actor): Envelope {
  return itsmEvents(registry).derive(RequestSubmitted, data, {
    idParts: ['intake', 'itsm-submitted', cause.id],
    cause,
    subject: data.requestId,
    correlationId: data.requestId,
    actor,
  });
}

/**
 * One status on the ticket, derived from the event that caused it (so a redelivery yields the same event id): its id
 * and time are all it takes, so a status can be told again from what the read model kept of its cause.
 */
export function ticketStatus(
  registry: EventRegistry,
  cause: Pick<Envelope, 'id' | 'time'>,
  change: { ticket: TicketRef; requestId?: string; status: ItsmStatus; reasons: readonly string[] },
): Envelope {
  const aggregate = change.requestId ?? `${change.ticket.system}:${change.ticket.id}`;
  return itsmEvents(registry).derive(
    ItsmStatusChanged,
    {
      ticket: change.ticket,
      ...(change.requestId === undefined ? {} : { requestId: change.requestId }),
      status: change.status,
      reasons: change.reasons.map((reason) => reason.slice(0, 500)).slice(0, 50),
      changedAt: cause.time,
    },
    { idParts: ['intake', 'itsm-status', change.status, cause.id], cause, subject: aggregate, correlationId: aggregate },
  );
}
