import type { Envelope } from '@grantline/contracts';
import { grantIdOf, requestIdOf } from './request-status.projection';
import type { RequestStatusView } from './request-status.projection';

/**
 * An event that arrived before the view it concerns: Kafka orders events only within a partition, and the intake
 * reads requests, decisions, approvals and grants from different topics, so a decision or a grant activation can
 * be handled before the submission (or the grant's creation) it follows.
 */
export interface ParkedEvent {
  readonly eventId: string;
  /** Set when the event names its request; such an event applies as soon as the request's view exists. */
  readonly requestId?: string;
  /** Set when the event names a grant; an event naming only a grant applies once a view holds that grant. */
  readonly grantId?: string;
  /** Tie-break for equal event times: the order in which the events were parked. */
  readonly arrival: number;
  readonly event: Envelope;
}

/** What to park an event under: its request when it names one, else its grant; undefined when it names neither. */
export function parkingOf(event: Envelope): { requestId?: string; grantId?: string } | undefined {
  const requestId = requestIdOf(event);
  const grantId = grantIdOf(event);
  if (requestId === undefined && grantId === undefined) return undefined;
  return { ...(requestId === undefined ? {} : { requestId }), ...(grantId === undefined ? {} : { grantId }) };
}

/** A parked event applies to a view that is its request, or (naming only a grant) that already holds the grant. */
export function appliesTo(view: RequestStatusView, parked: ParkedEvent): boolean {
  if (parked.requestId !== undefined) return parked.requestId === view.requestId;
  return parked.grantId !== undefined && view.grants.some((grant) => grant.grantId === parked.grantId);
}

function eventTime(parked: ParkedEvent): number {
  const time = Date.parse(parked.event.time);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** Event-time order, ties in arrival order (then by id, so the order is total). */
export function byEventTime(a: ParkedEvent, b: ParkedEvent): number {
  return eventTime(a) - eventTime(b) || a.arrival - b.arrival || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/**
 * Pure: the parked event to apply next to this view — the earliest by event time among those that apply now.
 * An event about a grant the view does not hold yet waits for the event that attaches the grant, even when its
 * own time is earlier (clocks of different services disagree; applying it early would record it and lose its
 * effect, since the timeline marks it applied).
 */
export function nextToDrain(view: RequestStatusView, parked: readonly ParkedEvent[]): ParkedEvent | undefined {
  return [...parked].sort(byEventTime).find((candidate) => appliesTo(view, candidate));
}
