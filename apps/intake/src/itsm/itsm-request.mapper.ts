import { ItsmStatusChanged, RequestSubmitted } from '@grantline/contracts';
import type { Actor, Envelope, EventRegistry, ItsmRequestReceivedData, ItsmStatus, RequestSubmittedData, TicketRef } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import type { FieldError } from '@grantline/http-edge';
import { validateSubmission } from '../requests/request-body.schema';
import type { CatalogLookup } from '../requests/request-body.schema';
import { INTAKE_SOURCE } from '../publishing/intake-publisher';

/** A ticket's request id is a function of the ticket: the same ticket delivered twice is one request. */
export function requestIdOfTicket(ticket: TicketRef): string {
  return `req-${deterministicEventId('itsm-ticket', ticket.system, ticket.id)}`;
}

export type ItsmIntakeOutcome = { readonly accepted: true; readonly data: RequestSubmittedData } | { readonly accepted: false; readonly reasons: readonly string[] };

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

export function submittedFromTicket(registry: EventRegistry, cause: Envelope, data: RequestSubmittedData, actor: Actor): Envelope {
  return registry.encode(RequestSubmitted, data, {
    id: deterministicEventId('intake', 'itsm-submitted', cause.id),
    source: INTAKE_SOURCE,
    time: cause.time,
    subject: data.requestId,
    correlationid: data.requestId,
    causationid: cause.id,
    actor,
  });
}

/** One status on the ticket, derived from the event that caused it (so a redelivery yields the same event id). */
export function ticketStatus(
  registry: EventRegistry,
  cause: Envelope,
  change: { ticket: TicketRef; requestId?: string; status: ItsmStatus; reasons: readonly string[] },
): Envelope {
  return registry.encode(
    ItsmStatusChanged,
    {
      ticket: change.ticket,
      ...(change.requestId === undefined ? {} : { requestId: change.requestId }),
      status: change.status,
      reasons: change.reasons.map((reason) => reason.slice(0, 500)).slice(0, 50),
      changedAt: cause.time,
    },
    {
      id: deterministicEventId('intake', 'itsm-status', change.status, cause.id),
      source: INTAKE_SOURCE,
      time: cause.time,
      subject: change.requestId ?? `${change.ticket.system}:${change.ticket.id}`,
      correlationid: change.requestId ?? `${change.ticket.system}:${change.ticket.id}`,
      causationid: cause.id,
      actor: { kind: 'service', id: 'intake' },
    },
  );
}
