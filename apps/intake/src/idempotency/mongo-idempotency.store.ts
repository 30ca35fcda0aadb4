import type { Collection, Connection } from 'mongoose';
import { GroupCommit } from './group-commit';
import type { Settled } from './group-commit';
import type { ClaimResult, IdempotencyClaim, IdempotencyRecord, IdempotencyStore, StoredResponse } from './idempotency';

/**
 * Two kinds of document, both only ever inserted: the claim, `_id` = hash of (caller, key), and its answer, `_id` =
 * that hash + `:answer`. A version that claimed and then completed the claim by an update left its answer (and a
 * `state`) in the claim document itself; such an answer is read as well.
 */
interface ClaimDocument {
  _id: string;
  fingerprint: string;
  claimedAt?: Date;
  /** JSON text, in claims completed by an older version only. */
  response?: string;
}

interface AnswerDocument {
  _id: string;
  /** JSON text: the stored body is replayed byte for byte, whatever keys it holds. */
  response: string;
  answeredAt: Date;
}

type KeyDocument = ClaimDocument | AnswerDocument;

export const IDEMPOTENCY_COLLECTION = 'intake_idempotency_keys_v1';
/** Documents per insertMany at most; more wait for the next write. */
const MAX_BATCH = 500;
const DUPLICATE_KEY = 11000;
const ANSWER_SUFFIX = ':answer';
/** A claim that vanished between its duplicate insert and the read (only an older version deletes claims): claim again. */
const CLAIM_ATTEMPTS = 3;

interface WriteErrorLike {
  readonly index: number;
  readonly code?: number;
  readonly errmsg?: string;
}

/** The per-document errors of an unordered insertMany (MongoBulkWriteError), or undefined when the whole write failed. */
function writeErrorsOf(error: unknown): readonly WriteErrorLike[] | undefined {
  if (typeof error !== 'object' || error === null || !('writeErrors' in error)) return undefined;
  const found = (error as { writeErrors?: WriteErrorLike | WriteErrorLike[] }).writeErrors;
  if (found === undefined) return undefined;
  return Array.isArray(found) ? found : [found];
}

/** Per document: inserted, or already there (duplicate `_id`); any other per-document error fails that item alone. */
type Inserted = 'inserted' | 'duplicate';

/**
 * Inserts documents through a group commit: concurrent requests' documents go out together in one unordered
 * insertMany, which FerretDB on SQLite does in about the time of one insertOne, while every read or update scans.
 */
function groupInsert<D extends { _id: string }>(collection: Collection<D>, maxBatch: number): GroupCommit<D, Inserted> {
  return new GroupCommit(async (documents): Promise<Settled<Inserted>[]> => {
    const results: Settled<Inserted>[] = documents.map(() => ({ ok: true, value: 'inserted' }));
    try {
      await collection.insertMany(documents as never, { ordered: false });
      return results;
    } catch (error) {
      const failures = writeErrorsOf(error);
      if (failures === undefined) throw error;
      for (const failure of failures) {
        if (failure.index < 0 || failure.index >= documents.length) continue;
        results[failure.index] =
          failure.code === DUPLICATE_KEY
            ? { ok: true, value: 'duplicate' }
            : { ok: false, error: new Error(`idempotency document not stored: ${failure.errmsg ?? `code ${failure.code}`}`) };
      }
      return results;
    }
  }, maxBatch);
}

/**
 * Keys in MongoDB. The claim's `_id` is the hash of (caller, key), so the always-unique `_id` index makes claiming
 * atomic without transactions (FerretDB v1 has none). A first-time call costs two inserts and no read: the claim
 * before the work, the answer after it, each grouped with the concurrent requests' (two group commits, so claims
 * never wait behind answers). Only a duplicate claim (a retry, or a key reused) reads, one query for both documents.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly collection: Collection<KeyDocument>;
  private readonly claims: GroupCommit<ClaimDocument, Inserted>;
  private readonly answers: GroupCommit<AnswerDocument, Inserted>;

  constructor(connection: Connection, maxBatch = MAX_BATCH) {
    this.collection = connection.collection<KeyDocument>(IDEMPOTENCY_COLLECTION);
    this.claims = groupInsert(connection.collection<ClaimDocument>(IDEMPOTENCY_COLLECTION), maxBatch);
    this.answers = groupInsert(connection.collection<AnswerDocument>(IDEMPOTENCY_COLLECTION), maxBatch);
  }

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
      const inserted = await this.claims.submit({ _id: claim.id, fingerprint: claim.fingerprint, claimedAt: claim.claimedAt });
      if (inserted === 'inserted') return { claimed: true };
      // The rare path: a retry, or a key reused. What the key holds decides.
      const existing = await this.find(claim.id);
      if (existing !== undefined) return { claimed: false, existing };
    }
    throw new Error(`idempotency key ${claim.id}: claimed, but its claim cannot be read`);
  }

  async answer(id: string, response: StoredResponse, answeredAt: Date): Promise<void> {
    // A duplicate: a retry of the same request (the claim binds the key to it) stored its answer first; it is kept.
    await this.answers.submit({ _id: `${id}${ANSWER_SUFFIX}`, response: JSON.stringify(response), answeredAt });
  }

  async find(id: string): Promise<IdempotencyRecord | undefined> {
    const documents = await this.collection.find({ _id: { $in: [id, `${id}${ANSWER_SUFFIX}`] } }).toArray();
    const claim = documents.find((document): document is ClaimDocument => document._id === id);
    if (claim === undefined) return undefined;
    const answer = documents.find((document) => document._id !== id)?.response ?? claim.response;
    return { id, fingerprint: claim.fingerprint, ...(answer === undefined ? {} : { response: JSON.parse(answer) as StoredResponse }) };
  }
}
