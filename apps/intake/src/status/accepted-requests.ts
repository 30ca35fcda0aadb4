import type { Envelope } from '@grantline/contracts';
import { BoundedMemory } from '../memory/bounded-memory';
import type { MemoryBounds } from '../memory/bounded-memory';
import { evolveRequestStatus, requestIdOf } from './request-status.projection';
import type { RequestStatusView } from './request-status.projection';

/** How much this instance remembers of what it accepted: enough for the projection to catch up under load. */
export const ACCEPTED_REQUESTS: MemoryBounds = { maxEntries: 10_000, ttlMs: 5 * 60_000 };

/**
 * What this instance accepted and the read model may not show yet: the events it published about each request (a
 * submission, a withdrawal, a revocation), per request, bounded in number and age. The HTTP path no longer writes
 * the read model (the consumer does, from the log), so a GET right after a 202 reads the projected view with these
 * events applied on top by the projection's own pure `evolveRequestStatus`: an event the projection already applied
 * (its id is in the timeline) changes nothing, and a request the projection does not know yet is built from its
 * submission. Once the projected view holds every event remembered for a request, the entry is dropped.
 *
 * Per instance: another instance (or this one after a restart) answers from the read model alone, so it may answer
 * 404 for a request accepted elsewhere a moment ago.
 */
export class AcceptedRequests {
  private readonly accepted: BoundedMemory<readonly Envelope[]>;

  constructor(bounds: MemoryBounds = ACCEPTED_REQUESTS, monotonicNow?: () => number) {
    this.accepted = new BoundedMemory(bounds, monotonicNow);
  }

  /** An event this instance published (acknowledged) about a request. */
  remember(event: Envelope): void {
    const requestId = requestIdOf(event);
    if (requestId === undefined) return;
    const earlier = this.accepted.get(requestId) ?? [];
    if (earlier.some((known) => known.id === event.id)) return;
    this.accepted.set(requestId, [...earlier, event]);
  }

  /** The request as this instance knows it: the projected view (if any) with what it accepted applied on top. */
  view(requestId: string, projected: RequestStatusView | undefined): RequestStatusView | undefined {
    const events = this.accepted.get(requestId);
    if (events === undefined) return projected;
    const projectedIds = new Set(projected?.timeline.map((entry) => entry.eventId) ?? []);
    if (events.every((event) => projectedIds.has(event.id))) {
      this.accepted.delete(requestId);
      return projected;
    }
    let view = projected;
    for (const event of events) view = evolveRequestStatus(view, event)?.view ?? view;
    return view;
  }
}
