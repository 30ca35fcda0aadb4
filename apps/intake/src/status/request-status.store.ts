import type { Collection, Connection } from 'mongoose';
import type { Envelope } from '@grantline/contracts';
import { KeyedMutex } from './keyed-mutex';
import { evolveRequestStatus, grantIdOf, requestIdOf } from './request-status.projection';
import type { Evolution, RequestStatusView } from './request-status.projection';

interface StatusDocument extends RequestStatusView {
  _id: string;
  /** Optimistic concurrency: the HTTP path and the consumer may write one request at once. */
  revision: number;
  grantIds: string[];
}

export const REQUEST_STATUS_COLLECTION = 'intake_request_status_v1';
const MAX_ATTEMPTS = 8;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

function toView(document: StatusDocument): RequestStatusView {
  const { _id: _ignored, revision: _revision, grantIds: _grantIds, ...view } = document;
  return view;
}

/** The intake's read model of its requests, in MongoDB; applying the same event twice changes nothing. */
export class RequestStatusStore {
  private readonly collection: Collection<StatusDocument>;
  private readonly writers = new KeyedMutex();

  constructor(connection: Connection) {
    this.collection = connection.collection<StatusDocument>(REQUEST_STATUS_COLLECTION);
  }

  async get(requestId: string): Promise<RequestStatusView | undefined> {
    const document = await this.collection.findOne({ _id: requestId });
    return document ? toView(document) : undefined;
  }

  async findByGrant(grantId: string): Promise<RequestStatusView | undefined> {
    const document = await this.collection.findOne({ grantIds: grantId });
    return document ? toView(document) : undefined;
  }

  /** Applies one event; returns what changed (undefined: nothing, e.g. a redelivery or an unrelated request). */
  async apply(event: Envelope): Promise<Evolution | undefined> {
    const requestId = requestIdOf(event) ?? (await this.load(event))?._id;
    if (requestId === undefined) return undefined;
    return this.writers.run(requestId, () => this.applyTo(requestId, event));
  }

  private async applyTo(requestId: string, event: Envelope): Promise<Evolution | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const document = await this.collection.findOne({ _id: requestId });
      const evolution = evolveRequestStatus(document ? toView(document) : undefined, event);
      if (!evolution) return undefined;
      const next: StatusDocument = {
        ...evolution.view,
        _id: evolution.view.requestId,
        revision: (document?.revision ?? 0) + 1,
        grantIds: evolution.view.grants.map((g) => g.grantId),
      };
      if (!document) {
        try {
          await this.collection.insertOne(next);
          return evolution;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          continue;
        }
      }
      const result = await this.collection.replaceOne({ _id: document._id, revision: document.revision }, next);
      if (result.matchedCount === 1) return evolution;
    }
    throw new Error(`request status: too many concurrent writers for event ${event.id}`);
  }

  private async load(event: Envelope): Promise<StatusDocument | null> {
    const requestId = requestIdOf(event);
    if (requestId !== undefined) return this.collection.findOne({ _id: requestId });
    const grantId = grantIdOf(event);
    return grantId === undefined ? null : this.collection.findOne({ grantIds: grantId });
  }
}

interface IdentityDocument {
  _id: string;
  kind: string;
  ownerId?: string;
  managerId?: string;
  status: string;
}

export const IDENTITY_COLLECTION = 'intake_identities_v1';

/** What the intake remembers of the identities it recorded: enough to offboard one (its kind, the NHIs it owns). */
export class IdentityDirectory {
  private readonly collection: Collection<IdentityDocument>;
  private readonly writers = new KeyedMutex();

  constructor(connection: Connection) {
    this.collection = connection.collection<IdentityDocument>(IDENTITY_COLLECTION);
  }

  async remember(identity: { identityId: string; kind: string; status: string; ownerId?: string; managerId?: string }): Promise<void> {
    const document = {
      kind: identity.kind,
      status: identity.status,
      ...(identity.ownerId === undefined ? {} : { ownerId: identity.ownerId }),
      ...(identity.managerId === undefined ? {} : { managerId: identity.managerId }),
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
