import {
  ContractViolationError,
  ItsmRequestReceivedDataSchema,
  TOPICS,
  TicketRefSchema,
  mapServiceNowCatalogItem,
  toContractIssues,
} from '@grantline/contracts';
import type { DeadLetteredData, ItsmRequestReceivedData, TicketRef } from '@grantline/contracts';
import { digestOf } from '@grantline/messaging';

/**
 * What to do with an inbound ITSM message the transport could not handle (it sits on the dead-letter topic):
 * a ServiceNow catalog item is mapped onto the generic shape and processed; anything else that names a ticket
 * is answered `rejected` with the reasons, so the ticket never waits forever.
 */
export type InboundRescue =
  | { readonly kind: 'process'; readonly data: ItsmRequestReceivedData; readonly causationId?: string }
  | { readonly kind: 'reject'; readonly ticket: TicketRef; readonly reasons: readonly string[]; readonly causationId?: string }
  | { readonly kind: 'unanswerable'; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const looksLikeServiceNow = (data: Record<string, unknown>): boolean => 'sys_id' in data || ('variables' in data && 'number' in data);
const issuesOf = (error: ContractViolationError): string[] => error.issues.map((issue) => `${issue.path === '' ? '(item)' : issue.path}: ${issue.message}`);

/**
 * A ServiceNow requested item (its `sc_req_item` record), mapped onto the generic request shape; one that breaks
 * the mapping is answered `rejected` with the field-level reasons, when its number names a ticket.
 */
export function fromServiceNowItem(item: Readonly<Record<string, unknown>>, eventId?: unknown): InboundRescue {
  const causation = typeof eventId === 'string' && eventId !== '' ? { causationId: eventId } : {};
  const number = typeof item['number'] === 'string' ? item['number'] : undefined;
  try {
    return { kind: 'process', data: mapServiceNowCatalogItem(item), ...causation };
  } catch (error) {
    if (!(error instanceof ContractViolationError)) throw error;
    const ticket = TicketRefSchema.safeParse({ system: 'servicenow', id: number });
    return ticket.success
      ? { kind: 'reject', ticket: ticket.data, reasons: issuesOf(error), ...causation }
      : { kind: 'unanswerable', reason: 'ServiceNow item without a usable number' };
  }
}

export function isInboundItsmDeadLetter(dead: DeadLetteredData): boolean {
  return dead.origin.topic === TOPICS.itsmInbound;
}

/**
 * The dead letter only refers to the message (it never carries its bytes, which may hold a secret): `original` is
 * the value read back from the log by that reference — undefined when the log no longer holds it. It must be the
 * very record that was refused (same SHA-256), else nothing is answered.
 */
export function rescueInbound(dead: DeadLetteredData, original: Buffer | null | undefined): InboundRescue {
  if (original === undefined) return { kind: 'unanswerable', reason: 'the original record is no longer on the log' };
  if (digestOf(original) !== dead.original.sha256)
    return { kind: 'unanswerable', reason: "the record at the dead letter's offset is not the one refused (digest differs)" };
  let raw: unknown;
  try {
    raw = JSON.parse(original?.toString('utf8') ?? '');
  } catch {
    return { kind: 'unanswerable', reason: 'not JSON: no ticket to answer' };
  }
  if (!isObject(raw) || !isObject(raw['data'])) return { kind: 'unanswerable', reason: 'no data: no ticket to answer' };
  const data = raw['data'];
  const causation = typeof raw['id'] === 'string' && raw['id'] !== '' ? { causationId: raw['id'] } : {};

  if (looksLikeServiceNow(data)) return fromServiceNowItem(data, raw['id']);

  const generic = ItsmRequestReceivedDataSchema.safeParse(data);
  const ticket = TicketRefSchema.safeParse(data['ticket']);
  if (!ticket.success) return { kind: 'unanswerable', reason: 'no valid ticket reference' };
  const reasons = generic.success
    ? [dead.reason]
    : toContractIssues(generic.error).map((issue) => `${issue.path === '' ? '(data)' : issue.path}: ${issue.message}`);
  return { kind: 'reject', ticket: ticket.data, reasons, ...causation };
}
