import type { Collection, Connection } from 'mongoose';
import type { Envelope, Identity } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { nextToDrain, parkingOf } from './parked-event.drain';
import type { ParkedEvent } from './parked-event.drain';
import { ParkedEvents } from './parked-events.store';
import { evolveRequestStatus, grantIdOf, grantsAttachedBy, isProjected, requestIdOf } from './request-status.projection';
import type { Evolution, RequestStatusView } from './request-status.projection';
import { KeyedMutex } from '@grantline/service-kit';

interface StatusDocument extends RequestStatusView {
  _id: string;
  /** Optimistic concurrency: the HTTP path and the consumer may write one request at once. */
  revision: number;
  grantIds: string[];
}

/** One change to a view, with the event that caused it (a ticket status derives its id from that event). */
export interface AppliedEvolution extends Evolution {
  readonly event: Envelope;
}

/** What one event did to its request's document. */
type Outcome =
  { readonly kind: 'applied'; readonly evolution: Evolution; readonly widened: boolean } | { readonly kind: 'unchanged' } | { readonly kind: 'unknown' };

export const REQUEST_STATUS_COLLECTION = 'intake_request_status_v1';
const MAX_ATTEMPTS = 8;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

function toView(document: StatusDocument): RequestStatusView {
  const { _id: _ignored, revision: _revision, grantIds: _grantIds, ...view } = document;
  return view;
}

/**
 * The intake's read model of its requests, in MongoDB; applying the same event twice changes nothing. An event
 * about a request (or grant) no view knows yet is parked, and applied when the view is created or gains the grant.
 */
export class RequestStatusStore {
  private readonly collection: Collection<StatusDocument>;
  private readonly parked: ParkedEvents;
  private readonly writers = new KeyedMutex();

  constructor(connection: Connection, clock: Clock) {
    this.collection = connection.collection<StatusDocument>(REQUEST_STATUS_COLLECTION);
    this.parked = new ParkedEvents(connection, clock);
  }

  async get(requestId: string): Promise<RequestStatusView | undefined> {
    const document = await this.collection.findOne({ _id: requestId });
    return document ? toView(document) : undefined;
  }

  /** Requests still open (submitted, or awaiting approval) for any of these beneficiaries: what a leaver cascade withdraws. */
  async openRequestsFor(subjectIds: readonly string[]): Promise<{ requestId: string; subjectId: string }[]> {
    if (subjectIds.length === 0) return [];
    const open = await this.collection
      .find({ 'subject.id': { $in: [...subjectIds] }, status: { $in: ['submitted', 'pending_approval'] } }, { projection: { _id: 1, subject: 1 } })
      .toArray();
    return open.map((document) => ({ requestId: document._id, subjectId: document.subject.id }));
  }

  async findByGrant(grantId: string): Promise<RequestStatusView | undefined> {
    const document = await this.collection.findOne({ grantIds: grantId });
    return document ? toView(document) : undefined;
  }

  /**
   * Applies one event; returns every change it caused, in order: its own, then those of the parked events it let
   * through. Empty: nothing changed (a redelivery, an unrelated event, or an event parked until its request is known).
   */
  async apply(event: Envelope): Promise<AppliedEvolution[]> {
    const requestId = requestIdOf(event);
    if (requestId !== undefined) return this.writers.run(requestId, () => this.applyAndDrain(requestId, event));
    const grantId = grantIdOf(event);
    if (grantId === undefined) return [];
    const owner = await this.collection.findOne({ grantIds: grantId });
    if (owner) return this.writers.run(owner._id, () => this.applyAndDrain(owner._id, event));
    if (!isProjected(event)) return [];
    await this.parked.park(event, { grantId });
    // Grants are attached under their request's lock, which this path cannot take before it knows the request: a
    // writer that attached the grant may have drained just before the event was parked. Look again after parking.
    const late = await this.collection.findOne({ grantIds: grantId });
    return late ? this.writers.run(late._id, () => this.drain(late._id)) : [];
  }

  /** Runs under the request's lock. Parked events found by grant id belong to this request too (grant ids derive from it). */
  private async applyAndDrain(requestId: string, event: Envelope): Promise<AppliedEvolution[]> {
    const outcome = await this.applyTo(requestId, event);
    if (outcome.kind === 'unknown') {
      const under = parkingOf(event);
      if (under && isProjected(event)) await this.parked.park(event, under);
      return [];
    }
    const own = outcome.kind === 'applied' ? [{ ...outcome.evolution, event }] : [];
    // A new view or new grants can let parked events through. So can a redelivery: after a crash between creating
    // the view and draining, the redelivered submission is what finds the events still parked.
    const mayRelease = outcome.kind === 'unchanged' || outcome.widened;
    return mayRelease ? [...own, ...(await this.drain(requestId))] : own;
  }

  /**
   * Applies the parked events that concern this request, earliest event time first, each deleted once applied.
   * Runs under the request's lock; takes no other lock (everything it finds belongs to this request).
   */
  private async drain(requestId: string): Promise<AppliedEvolution[]> {
    const document = await this.collection.findOne({ _id: requestId });
    if (!document) return [];
    let view = toView(document);
    let waiting: ParkedEvent[] = await this.parked.waitingFor(requestId, document.grantIds, grantsAttachedBy);
    const drained: AppliedEvolution[] = [];
    for (let next = nextToDrain(view, waiting); next !== undefined; next = nextToDrain(view, waiting)) {
      const { eventId, event } = next;
      const outcome = await this.applyTo(requestId, event);
      if (outcome.kind === 'applied') {
        view = outcome.evolution.view;
        drained.push({ ...outcome.evolution, event });
      }
      await this.parked.remove(eventId);
      waiting = waiting.filter((parked) => parked.eventId !== eventId);
      if (outcome.kind === 'applied' && outcome.widened) {
        waiting = await this.parked.waitingFor(
          requestId,
          view.grants.map((g) => g.grantId),
          grantsAttachedBy,
        );
      }
    }
    return drained;
  }

  private async applyTo(requestId: string, event: Envelope): Promise<Outcome> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const document = await this.collection.findOne({ _id: requestId });
      const evolution = evolveRequestStatus(document ? toView(document) : undefined, event);
      if (!evolution) return document ? { kind: 'unchanged' } : { kind: 'unknown' };
      const grantIds = evolution.view.grants.map((g) => g.grantId);
      const next: StatusDocument = { ...evolution.view, _id: evolution.view.requestId, revision: (document?.revision ?? 0) + 1, grantIds };
      const widened = !document || grantIds.some((grantId) => !document.grantIds.includes(grantId));
      if (!document) {
        try {
          await this.collection.insertOne(next);
          return { kind: 'applied', evolution, widened };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          continue;
        }
      }
      const result = await this.collection.replaceOne({ _id: document._id, revision: document.revision }, next);
      if (result.matchedCount === 1) return { kind: 'applied', evolution, widened };
    }
    throw new Error(`request status: too many concurrent writers for event ${event.id}`);
  }
}

interface IdentityDocument {
  _id: string;
  kind: string;
  ownerId?: string;
  managerId?: string;
  status: string;
  /**
   * The whole record last published, as JSON text, so a source that owns one attribute can change it without erasing
   * the rest. Text, not a sub-document: attribute names may hold `.` (`account.<connectorId>`) or start with `$`, which
   * a document field may not.
   */
  identityJson?: string;
  /** How records were kept before they were kept as text (read, never written). */
  identity?: Identity;
}

export const IDENTITY_COLLECTION = 'intake_identities_v1';

/**
 * What the intake remembers of the identities it recorded: enough to offboard one (its kind, the NHIs it owns), to
 * tell who is related to whom (manager, owner of record) when authorizing a call, and the whole last record.
 */
export class IdentityDirectory {
  private readonly collection: Collection<IdentityDocument>;
  private readonly writers = new KeyedMutex();

  constructor(connection: Connection) {
    this.collection = connection.collection<IdentityDocument>(IDENTITY_COLLECTION);
  }

  async remember(identity: Identity): Promise<void> {
    const document = {
      kind: identity.kind,
      status: identity.status,
      ...(identity.kind === 'human' ? (identity.managerId === undefined ? {} : { managerId: identity.managerId }) : { ownerId: identity.ownerId }),
      identityJson: JSON.stringify(identity),
    };
    await this.writers.run(identity.identityId, async () => {
      try {
        await this.collection.replaceOne({ _id: identity.identityId }, document, { upsert: true });
      } catch (error) {
        // Two upserts of a new id racing (HTTP path and consumer, or two instances): FerretDB v1 lets both try to
        // insert. The loser's retry finds the document and replaces it.
        if (!isDuplicateKey(error)) throw error;
        await this.collection.replaceOne({ _id: identity.identityId }, document, { upsert: true });
      }
    });
  }

  /** The last record published for this identity (undefined for one recorded before records were kept whole). */
  async get(identityId: string): Promise<Identity | undefined> {
    const document = await this.collection.findOne({ _id: identityId });
    const identity = document?.identityJson === undefined ? document?.identity : (JSON.parse(document.identityJson) as Identity);
    if (document === null || identity === undefined) return undefined;
    return document.status === 'offboarded' ? { ...identity, status: 'offboarded' } : identity;
  }

  /** Kind and status as last recorded: whether a ticket's requester is a person still here. */
  async standing(identityId: string): Promise<{ kind: string; status: string } | undefined> {
    const document = await this.collection.findOne({ _id: identityId });
    return document ? { kind: document.kind, status: document.status } : undefined;
  }

  async kindOf(identityId: string): Promise<string | undefined> {
    return (await this.collection.findOne({ _id: identityId }))?.kind;
  }

  /** The manager of a person, or the owner of record of a non-human identity, as last recorded here. */
  async responsibleFor(identityId: string): Promise<{ managerId?: string; ownerId?: string }> {
    const document = await this.collection.findOne({ _id: identityId });
    return {
      ...(document?.managerId === undefined ? {} : { managerId: document.managerId }),
      ...(document?.ownerId === undefined ? {} : { ownerId: document.ownerId }),
    };
  }

  async ownedBy(ownerId: string): Promise<string[]> {
    const owned = await this.collection.find({ ownerId, status: { $ne: 'offboarded' } }).toArray();
    return owned.map((document) => document._id).sort();
  }

  async markOffboarded(identityId: string): Promise<void> {
    await this.collection.updateOne({ _id: identityId }, { $set: { status: 'offboarded' } });
  }

  /** The NHI's owner changed through a governed transfer. */
  async changeOwner(identityId: string, ownerId: string): Promise<void> {
    const document = await this.collection.findOne({ _id: identityId });
    if (!document) return;
    const identity = document.identity !== undefined && document.identity.kind !== 'human' ? { ...document.identity, ownerId } : document.identity;
    await this.collection.updateOne({ _id: identityId }, { $set: { ownerId, ...(identity === undefined ? {} : { identity }) } });
  }
}

interface RevocationTicketDocument {
  _id: string;
  grantId: string;
  requestId?: string;
  ticket: { system: 'servicenow' | 'jira' | 'other'; id: string; url?: string };
  answered: boolean;
}

export const REVOCATION_TICKETS_COLLECTION = 'intake_revocation_tickets_v1';

/**
 * Upstream tickets that asked for a revocation (`POST /v1/grants/:id/revoke` with a ticket). The revocation event
 * has no ticket field, so the intake keeps the link itself and answers the ticket `revoked` once the grant is.
 */
export class RevocationTickets {
  private readonly collection: Collection<RevocationTicketDocument>;

  constructor(connection: Connection) {
    this.collection = connection.collection<RevocationTicketDocument>(REVOCATION_TICKETS_COLLECTION);
  }

  async follow(revocationId: string, grantId: string, ticket: RevocationTicketDocument['ticket'], requestId?: string): Promise<void> {
    await this.collection.replaceOne(
      { _id: revocationId },
      { grantId, ticket, answered: false, ...(requestId === undefined ? {} : { requestId }) },
      { upsert: true },
    );
  }

  async waitingFor(grantId: string): Promise<{ revocationId: string; ticket: RevocationTicketDocument['ticket']; requestId?: string }[]> {
    const documents = await this.collection.find({ grantId, answered: false }).toArray();
    return documents.map((d) => ({ revocationId: d._id, ticket: d.ticket, ...(d.requestId === undefined ? {} : { requestId: d.requestId }) }));
  }

  async answered(revocationId: string): Promise<void> {
    await this.collection.updateOne({ _id: revocationId }, { $set: { answered: true } });
  }
}
