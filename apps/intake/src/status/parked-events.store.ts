import type { Collection, Connection } from 'mongoose';
import type { Envelope } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import type { ParkedEvent } from './parked-event.drain';

interface ParkedDocument {
  /** The event id: a redelivered event parks once. */
  _id: string;
  requestId?: string;
  grantId?: string;
  /** The envelope as JSON text: event data may hold keys a document field cannot (`$`, `.`), e.g. policy inputs. */
  envelope: string;
  arrival: number;
  parkedAt: string;
}

export const PARKED_EVENTS_COLLECTION = 'intake_parked_events_v1';

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

function toParked(document: ParkedDocument): ParkedEvent {
  return {
    eventId: document._id,
    ...(document.requestId === undefined ? {} : { requestId: document.requestId }),
    ...(document.grantId === undefined ? {} : { grantId: document.grantId }),
    arrival: document.arrival,
    event: JSON.parse(document.envelope) as Envelope,
  };
}

/** Lifecycle events waiting for the request (or grant) they concern to become known, in the intake's MongoDB. */
export class ParkedEvents {
  private readonly collection: Collection<ParkedDocument>;
  private sequence = 0;

  constructor(
    connection: Connection,
    private readonly clock: Clock,
  ) {
    this.collection = connection.collection<ParkedDocument>(PARKED_EVENTS_COLLECTION);
  }

  /** Parks an event; parking it again (a redelivery) keeps the first copy. */
  async park(event: Envelope, under: { requestId?: string; grantId?: string }): Promise<void> {
    this.sequence = (this.sequence + 1) % 1000;
    const document: ParkedDocument = {
      _id: event.id,
      ...under,
      envelope: JSON.stringify(event),
      // Milliseconds with a per-process sequence: arrival order for events parked within one millisecond. The wall
      // clock, not CLOCK: an order of arrival in this process, which a pinned clock would collapse.
      arrival: Date.now() * 1000 + this.sequence,
      parkedAt: this.clock.now().toISOString(),
    };
    try {
      await this.collection.insertOne(document);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /**
   * Everything parked for this request: the events naming it, and the events naming only one of its grants — the
   * grants it holds and those its own parked events will attach (approval, grant created).
   */
  async waitingFor(requestId: string, grantIds: readonly string[], attachedBy: (event: Envelope) => readonly string[]): Promise<ParkedEvent[]> {
    const byRequest = (await this.collection.find({ requestId }).toArray()).map(toParked);
    const grants = new Set([...grantIds, ...byRequest.flatMap((parked) => attachedBy(parked.event))]);
    if (grants.size === 0) return byRequest;
    const byGrant = await this.collection.find({ grantId: { $in: [...grants] } }).toArray();
    // An event that names a request is that request's alone, whatever grant it names too.
    return [...byRequest, ...byGrant.filter((document) => document.requestId === undefined).map(toParked)];
  }

  /** Forgets an event once applied; a crash before this only re-applies it later, which is a no-op. */
  async remove(eventId: string): Promise<void> {
    await this.collection.deleteOne({ _id: eventId });
  }
}
