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

/** A write that failed only on documents already stored (the driver's bulk error lists each failed document). */
export function onlyDuplicateKeys(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: unknown };
  const each = Array.isArray(writeErrors) ? (writeErrors as { code?: unknown }[]) : writeErrors === undefined ? [] : [writeErrors as { code?: unknown }];
  return each.length > 0 ? each.every((failed) => failed.code === 11000) : code === 11000;
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

  /**
   * Where an event parked now goes in arrival order: milliseconds with a per-process sequence, so events parked within
   * one millisecond keep their order. The wall clock, not CLOCK: an order of arrival in this process, which a pinned
   * clock would collapse.
   */
  nextArrival(): number {
    this.sequence = (this.sequence + 1) % 1000;
    return Date.now() * 1000 + this.sequence;
  }

  /** Indexes for the lookups below (used by MongoDB; FerretDB v1 keeps them but scans). Idempotent. */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ requestId: 1 }, { name: 'requestId' });
    await this.collection.createIndex({ grantId: 1 }, { name: 'grantId' });
  }

  /** Parks these events in one write; an event parked already (a redelivery) keeps its first copy. */
  async parkAll(events: readonly ParkedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const parkedAt = this.clock.now().toISOString();
    const documents: ParkedDocument[] = events.map((parked) => ({
      _id: parked.eventId,
      ...(parked.requestId === undefined ? {} : { requestId: parked.requestId }),
      ...(parked.grantId === undefined ? {} : { grantId: parked.grantId }),
      envelope: JSON.stringify(parked.event),
      arrival: parked.arrival,
      parkedAt,
    }));
    try {
      // Unordered: the others are inserted past a duplicate (FerretDB too).
      await this.collection.insertMany(documents, { ordered: false });
    } catch (error) {
      if (!onlyDuplicateKeys(error)) throw error;
    }
  }

  /**
   * Everything parked for these requests, in at most two queries: the events naming one of them, and the events
   * naming only a grant — one of `grantIds`, or one their own parked events will attach (approval, grant created).
   */
  async waitingForAll(requestIds: readonly string[], grantIds: readonly string[], attachedBy: (event: Envelope) => readonly string[]): Promise<ParkedEvent[]> {
    const clauses = [
      ...(requestIds.length === 0 ? [] : [{ requestId: { $in: [...requestIds] } }]),
      ...(grantIds.length === 0 ? [] : [{ grantId: { $in: [...grantIds] } }]),
    ];
    if (clauses.length === 0) return [];
    const found = (await this.collection.find(clauses.length === 1 ? clauses[0]! : { $or: clauses }).toArray()).map(toParked);
    const searched = new Set(grantIds);
    const attached = [...new Set(found.flatMap((parked) => attachedBy(parked.event)))].filter((grantId) => !searched.has(grantId));
    if (attached.length > 0) found.push(...(await this.collection.find({ grantId: { $in: attached } }).toArray()).map(toParked));
    const mine = new Set(requestIds);
    const seen = new Set<string>();
    // An event that names a request is that request's alone, whatever grant it names too.
    return found.filter((parked) => {
      if (seen.has(parked.eventId) || (parked.requestId !== undefined && !mine.has(parked.requestId))) return false;
      seen.add(parked.eventId);
      return true;
    });
  }

  /** Forgets events once applied, in one write; a crash before this only re-applies them later, which is a no-op. */
  async removeAll(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.collection.deleteMany({ _id: { $in: [...eventIds] } });
  }
}
