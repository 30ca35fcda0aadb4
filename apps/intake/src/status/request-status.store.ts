import type { Collection, Connection } from 'mongoose';
import type { Envelope, Identity } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { KeyedMutex } from '@grantline/service-kit';
import { ParkedEvents, onlyDuplicateKeys } from './parked-events.store';
import { foldStatusBatch, grantsConcerning, namedBy, toView } from './request-status.batch';
import { grantsAttachedBy } from './request-status.projection';
import type { AppliedEvolution, FoldedBatch, StatusDocument } from './request-status.batch';
import type { RequestStatusView } from './request-status.projection';

export type { AppliedEvolution, TicketStatusChange } from './request-status.batch';

/** What a batch of lifecycle events did to the read model. */
export type ProjectedBatch = Pick<FoldedBatch, 'applied' | 'ticketStatuses'>;

export const REQUEST_STATUS_COLLECTION = 'intake_request_status_v1';
const MAX_ATTEMPTS = 8;
/** Batches of one process run one after the other: they would only race each other's revisions. */
const BATCH_LOCK = 'batch';

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** A query of the status collection, as the driver types it (mongoose's own filter type is wider). */
type StatusFilter = NonNullable<Parameters<Collection<StatusDocument>['countDocuments']>[0]>;

/**
 * The documents of these requests, or holding one of these grants. One request alone is asked for by `_id` equality:
 * the one filter FerretDB v1 pushes down to SQLite (`$in` and `$or` decode every stored document); MongoDB answers
 * either from its indexes (`_id`, `grantIds`).
 */
function byRequestOrGrant(requestIds: readonly string[], grantIds: readonly string[]): StatusFilter {
  const clauses: StatusFilter[] = [
    ...(requestIds.length === 0 ? [] : [requestIds.length === 1 ? { _id: requestIds[0]! } : { _id: { $in: [...requestIds] } }]),
    ...(grantIds.length === 0 ? [] : [{ grantIds: { $in: [...grantIds] } }]),
  ];
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/**
 * The intake's read model of its requests, in MongoDB; applying the same events twice changes nothing. An event
 * about a request (or grant) no view knows yet is parked, and applied when the view is created or gains the grant.
 * Written a batch at a time: the documents a batch concerns are read with one query, folded in memory, written with
 * one bulk write guarded by their revisions (so every collection scan FerretDB makes is one per batch, not per event).
 */
export class RequestStatusStore {
  private readonly collection: Collection<StatusDocument>;
  private readonly parked: ParkedEvents;
  private readonly writers = new KeyedMutex();
  private indexed: Promise<void> | undefined;

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
    return [...(await this.applyBatch([event])).applied];
  }

  /**
   * Applies a batch of events in log order, as one event at a time would: the changes it made, and every ticket
   * status its events caused (told again, with the same causes, for events an earlier delivery of the batch applied).
   */
  async applyBatch(events: readonly Envelope[]): Promise<ProjectedBatch> {
    return this.writers.run(BATCH_LOCK, () => this.project(events));
  }

  private async project(events: readonly Envelope[]): Promise<ProjectedBatch> {
    const { requestIds, grantIds } = namedBy(events);
    if (requestIds.length === 0 && grantIds.length === 0) return { applied: [], ticketStatuses: [] };
    await this.ensureIndexes();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const documents = await this.load(requestIds, grantIds);
      const parked = await this.parked.waitingForAll(
        [...new Set([...requestIds, ...documents.map((document) => document._id)])],
        grantsConcerning(events, documents),
        grantsAttachedBy,
      );
      const folded = foldStatusBatch(events, { documents, parked }, () => this.parked.nextArrival());
      // Parked first: a crash after it re-parks nothing (same ids); a crash after the views only re-applies.
      await this.parked.parkAll(folded.parkedToAdd);
      // Lost a race to another writer (another instance; the HTTP path never writes here): fold again from what is
      // stored now. What this attempt did write is then found applied, and its statuses are told again, unchanged.
      if (!(await this.write(folded.writes))) continue;
      await this.parked.removeAll(folded.parkedToRemove);
      // Another writer may have created the request, or attached the grant, an event was just parked for, and drained
      // before it was parked: look again, and fold once more if so.
      if (await this.knownNow(folded.parkedToAdd)) continue;
      return folded;
    }
    throw new Error(`request status: too many concurrent writers for the batch from event ${events[0]?.id ?? '(none)'}`);
  }

  /** Every document the batch names, by request id or by grant id, in one query. */
  private async load(requestIds: readonly string[], grantIds: readonly string[]): Promise<StatusDocument[]> {
    return this.collection.find(byRequestOrGrant(requestIds, grantIds)).toArray();
  }

  /** One bulk write of new documents and revision-guarded replacements; false when any of them lost a race. */
  private async write(writes: FoldedBatch['writes']): Promise<boolean> {
    if (writes.length === 0) return true;
    const operations: Parameters<Collection<StatusDocument>['bulkWrite']>[0] = writes.map(({ document, expectedRevision }) =>
      expectedRevision === undefined
        ? { insertOne: { document } }
        : { replaceOne: { filter: { _id: document._id, revision: expectedRevision }, replacement: document } },
    );
    try {
      const result = await this.collection.bulkWrite(operations, { ordered: false });
      return result.insertedCount + result.matchedCount === operations.length;
    } catch (error) {
      // A request created meanwhile by another writer. FerretDB may skip what follows the duplicate: folding again
      // from what is stored writes what is missing.
      if (onlyDuplicateKeys(error)) return false;
      throw error;
    }
  }

  private async knownNow(parked: FoldedBatch['parkedToAdd']): Promise<boolean> {
    const requestIds = [...new Set(parked.flatMap((event) => (event.requestId === undefined ? [] : [event.requestId])))];
    const grantIds = [...new Set(parked.flatMap((event) => (event.requestId === undefined && event.grantId !== undefined ? [event.grantId] : [])))];
    if (requestIds.length === 0 && grantIds.length === 0) return false;
    const found = await this.collection.findOne(byRequestOrGrant(requestIds, grantIds), { projection: { _id: 1 } });
    return found !== null;
  }

  /** `grantIds` is what grant events find their request by: indexed on MongoDB (FerretDB v1 keeps it but scans). */
  private async ensureIndexes(): Promise<void> {
    this.indexed ??= Promise.all([this.collection.createIndex({ grantIds: 1 }, { name: 'grantIds' }), this.parked.ensureIndexes()]).then(
      () => undefined,
      (error: unknown) => {
        this.indexed = undefined;
        throw error;
      },
    );
    await this.indexed;
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

  /** Every ticket that follows one of these grants, answered or not (a redelivered revocation tells them again). */
  async followersOf(
    grantIds: readonly string[],
  ): Promise<{ revocationId: string; grantId: string; ticket: RevocationTicketDocument['ticket']; requestId?: string; answered: boolean }[]> {
    if (grantIds.length === 0) return [];
    const documents = await this.collection.find({ grantId: { $in: [...grantIds] } }).toArray();
    return documents
      .sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
      .map((d) => ({
        revocationId: d._id,
        grantId: d.grantId,
        ticket: d.ticket,
        ...(d.requestId === undefined ? {} : { requestId: d.requestId }),
        answered: d.answered,
      }));
  }

  async answered(revocationIds: readonly string[]): Promise<void> {
    if (revocationIds.length === 0) return;
    await this.collection.updateMany({ _id: { $in: [...revocationIds] } }, { $set: { answered: true } });
  }
}
