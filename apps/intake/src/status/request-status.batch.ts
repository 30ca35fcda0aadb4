import type { Envelope, ItsmStatus } from '@grantline/contracts';
import { nextToDrain, parkingOf } from './parked-event.drain';
import type { ParkedEvent } from './parked-event.drain';
import { evolveRequestStatus, grantIdOf, grantsAttachedBy, isProjected, requestIdOf } from './request-status.projection';
import type { Evolution, RequestStatusView } from './request-status.projection';

/**
 * A ticket status a request's events caused, kept in its document: a redelivered batch (or a batch folded again after
 * losing a race) finds its events already applied, and tells the same statuses again from here.
 */
export interface ToldStatus {
  readonly eventId: string;
  /** The causing event's time: with its id, all a ticket status derives from its cause. */
  readonly at: string;
  readonly status: ItsmStatus;
  readonly reasons: readonly string[];
  /** The event whose application let this one out of parking; absent when it was applied as it arrived. */
  readonly releasedBy?: string;
}

/** One request as stored: its view, and what the store needs beside it. */
export interface StatusDocument extends RequestStatusView {
  _id: string;
  /** Optimistic concurrency: every write names the revision it was folded from. */
  revision: number;
  grantIds: string[];
  told?: ToldStatus[];
}

/** One change to a view, with the event that caused it. */
export interface AppliedEvolution extends Evolution {
  readonly event: Envelope;
}

/** A status to tell a request's ticket, placed in the batch: after the event at `batchIndex`, the one that caused or released it. */
export interface TicketStatusChange {
  readonly batchIndex: number;
  readonly cause: { readonly id: string; readonly time: string };
  readonly view: RequestStatusView;
  readonly status: ItsmStatus;
  readonly reasons: readonly string[];
}

/** What a batch does: the documents to write, the parked events to add and remove, and its changes in order. */
export interface FoldedBatch {
  /** The changes this fold made, in order (an event's own, then those of the parked events it released). */
  readonly applied: readonly AppliedEvolution[];
  /** Every ticket status the batch's events caused, in order, told again for events an earlier delivery applied. */
  readonly ticketStatuses: readonly TicketStatusChange[];
  /** Documents to write; `expectedRevision` undefined: a new document (insert), else replace only that revision. */
  readonly writes: readonly { readonly document: StatusDocument; readonly expectedRevision: number | undefined }[];
  readonly parkedToAdd: readonly ParkedEvent[];
  /** Ids of stored parked events this fold applied (or found already applied). */
  readonly parkedToRemove: readonly string[];
}

const MAX_TOLD = 50;

export function toView(document: StatusDocument): RequestStatusView {
  const { _id: _ignored, revision: _revision, grantIds: _grantIds, told: _told, ...view } = document;
  return view;
}

/** The requests and grants a batch names: what to load before folding it. */
export function namedBy(events: readonly Envelope[]): { requestIds: string[]; grantIds: string[] } {
  const requestIds = new Set<string>();
  const grantIds = new Set<string>();
  for (const event of events) {
    const requestId = requestIdOf(event);
    const grantId = grantIdOf(event);
    // The event's own request id is the truth; a grant id is searched only for events naming nothing else.
    if (requestId !== undefined) requestIds.add(requestId);
    else if (grantId !== undefined) grantIds.add(grantId);
  }
  return { requestIds: [...requestIds], grantIds: [...grantIds] };
}

/**
 * Pure: a batch of lifecycle events folded, in log order, into the stored documents and parked events that concern it,
 * with the same rules as one event at a time: an event of an unknown request (or grant) is parked; a new view, a view
 * gaining grants, or an event found already applied lets the parked events that now apply through, earliest first.
 * `arrival` orders events parked by this fold after those parked before.
 */
export function foldStatusBatch(
  events: readonly Envelope[],
  stored: { readonly documents: readonly StatusDocument[]; readonly parked: readonly ParkedEvent[] },
  arrival: () => number,
): FoldedBatch {
  const documents = new Map(stored.documents.map((document) => [document._id, document]));
  const storedRevisions = new Map(stored.documents.map((document) => [document._id, document.revision]));
  const owners = new Map(stored.documents.flatMap((document) => document.grantIds.map((grantId) => [grantId, document._id] as const)));
  const storedParked = new Set(stored.parked.map((parked) => parked.eventId));
  let waiting: ParkedEvent[] = [...stored.parked];
  const added = new Map<string, ParkedEvent>();
  const removed: string[] = [];
  const changed = new Set<string>();
  const applied: AppliedEvolution[] = [];
  const ticketStatuses: TicketStatusChange[] = [];
  // A status is told once a batch, even when its event is in the batch twice (a status's id derives from both).
  const toldInBatch = new Set<string>();
  const tell = (change: TicketStatusChange): void => {
    const key = `${change.status} ${change.cause.id}`;
    if (toldInBatch.has(key)) return;
    toldInBatch.add(key);
    ticketStatuses.push(change);
  };

  /** Writes an evolution into its document; true when it widened the view (new, or new grants). */
  const record = (previous: StatusDocument | undefined, evolution: Evolution, event: Envelope, batchIndex: number, releasedBy?: string): boolean => {
    const { view, ticketStatus } = evolution;
    const grantIds = view.grants.map((grant) => grant.grantId);
    const told = ticketStatus
      ? [...(previous?.told ?? []), { eventId: event.id, at: event.time, ...ticketStatus, ...(releasedBy === undefined ? {} : { releasedBy }) }].slice(
          -MAX_TOLD,
        )
      : previous?.told;
    const next: StatusDocument = { ...view, _id: view.requestId, revision: previous?.revision ?? 0, grantIds, ...(told === undefined ? {} : { told }) };
    documents.set(next._id, next);
    changed.add(next._id);
    for (const grantId of grantIds) owners.set(grantId, next._id);
    applied.push({ ...evolution, event });
    if (ticketStatus) tell({ batchIndex, cause: { id: event.id, time: event.time }, view, ...ticketStatus });
    return !previous || grantIds.some((grantId) => !previous.grantIds.includes(grantId));
  };

  const park = (event: Envelope, under: { requestId?: string; grantId?: string }): void => {
    // Parked already (a redelivery, or earlier in this batch): the first copy keeps its place.
    if (waiting.some((parked) => parked.eventId === event.id)) return;
    const parked: ParkedEvent = { eventId: event.id, ...under, arrival: arrival(), event };
    waiting.push(parked);
    added.set(event.id, parked);
  };

  const unpark = (eventId: string): void => {
    if (!waiting.some((parked) => parked.eventId === eventId)) return;
    waiting = waiting.filter((parked) => parked.eventId !== eventId);
    if (storedParked.has(eventId)) removed.push(eventId);
    else added.delete(eventId);
  };

  /** Applies the parked events that now apply to this request, earliest event time first; each leaves the parking. */
  const drain = (requestId: string, releaser: Envelope, batchIndex: number): void => {
    for (;;) {
      const document = documents.get(requestId);
      if (!document) return;
      const next = nextToDrain(toView(document), waiting);
      if (next === undefined) return;
      unpark(next.eventId);
      // Undefined: applied before (a crash between writing the view and removing the parked copy).
      const evolution = evolveRequestStatus(toView(document), next.event);
      if (evolution) record(document, evolution, next.event, batchIndex, releaser.id);
    }
  };

  /** An event an earlier delivery applied: the statuses it caused then, its own and those of the events it released. */
  const tellAgain = (document: StatusDocument, event: Envelope, batchIndex: number): void => {
    const view = toView(document);
    for (const told of document.told ?? []) {
      const caused = told.releasedBy === undefined ? told.eventId === event.id : told.releasedBy === event.id;
      if (caused) tell({ batchIndex, cause: { id: told.eventId, time: told.at }, view, status: told.status, reasons: told.reasons });
    }
  };

  events.forEach((event, batchIndex) => {
    const named = requestIdOf(event);
    const grantId = grantIdOf(event);
    const requestId = named ?? (grantId === undefined ? undefined : owners.get(grantId));
    if (requestId === undefined) {
      if (grantId !== undefined && isProjected(event)) park(event, { grantId });
      return;
    }
    const document = documents.get(requestId);
    const evolution = evolveRequestStatus(document ? toView(document) : undefined, event);
    if (!evolution && !document) {
      const under = parkingOf(event);
      if (under && isProjected(event)) park(event, under);
      return;
    }
    // Its request is known now: a copy parked before (by another writer, or by this batch's earlier attempt) goes.
    unpark(event.id);
    if (evolution) {
      if (record(document, evolution, event, batchIndex)) drain(requestId, event, batchIndex);
      return;
    }
    if (!document) return;
    // Already applied: a redelivery. It tells its statuses again, and releases what a crash may have left parked.
    tellAgain(document, event, batchIndex);
    drain(requestId, event, batchIndex);
  });

  const writes = [...changed].map((id) => {
    const document = documents.get(id)!;
    const expectedRevision = storedRevisions.get(id);
    return { document: { ...document, revision: (expectedRevision ?? 0) + 1 }, expectedRevision };
  });
  return { applied, ticketStatuses, writes, parkedToAdd: [...added.values()], parkedToRemove: removed };
}

/** The grants an event or parked event may bring into the batch: those it names, and those it attaches. */
export function grantsConcerning(events: readonly Envelope[], documents: readonly StatusDocument[]): string[] {
  const grants = new Set(documents.flatMap((document) => document.grantIds));
  for (const event of events) {
    const grantId = grantIdOf(event);
    if (grantId !== undefined) grants.add(grantId);
    for (const attached of grantsAttachedBy(event)) grants.add(attached);
  }
  return [...grants];
}
