import type { Collection, Connection } from 'mongoose';
import type { Clock } from '@grantline/decider';
import type { ClaimResult, IdempotencyRecord, IdempotencyStore, StoredResponse } from './idempotency';

interface KeyDocument {
  _id: string;
  fingerprint: string;
  state: 'pending' | 'completed';
  startedAt: Date;
  completedAt?: Date;
  /** JSON text: the stored body is replayed byte for byte, whatever keys it holds. */
  response?: string;
}

export const IDEMPOTENCY_COLLECTION = 'intake_idempotency_keys_v1';

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Keys in MongoDB. The `_id` is the hashed (caller, key) pair, so the always-unique `_id` index makes a claim
 * atomic without transactions (FerretDB v1 has none).
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly collection: Collection<KeyDocument>;

  constructor(
    connection: Connection,
    private readonly clock: Clock,
  ) {
    this.collection = connection.collection<KeyDocument>(IDEMPOTENCY_COLLECTION);
  }

  async claim(id: string, fingerprint: string, now: Date, staleBefore: Date): Promise<ClaimResult> {
    try {
      await this.collection.insertOne({ _id: id, fingerprint, state: 'pending', startedAt: now });
      return { claimed: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const existing = await this.collection.findOne({ _id: id });
    if (!existing) return this.claim(id, fingerprint, now, staleBefore);
    if (existing.state === 'pending' && existing.fingerprint === fingerprint && existing.startedAt < staleBefore) {
      // Abandoned by a process that died mid-request: take it over, unless someone else just did.
      const taken = await this.collection.updateOne({ _id: id, state: 'pending', startedAt: existing.startedAt }, { $set: { startedAt: now } });
      if (taken.modifiedCount === 1) return { claimed: true };
    }
    return { claimed: false, existing: toRecord(existing) };
  }

  async complete(id: string, response: StoredResponse): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { state: 'completed', completedAt: this.clock.now(), response: JSON.stringify(response) } });
  }

  async release(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id, state: 'pending' });
  }
}

function toRecord(document: KeyDocument): IdempotencyRecord {
  return {
    id: document._id,
    fingerprint: document.fingerprint,
    state: document.state,
    startedAt: document.startedAt,
    ...(document.response === undefined ? {} : { response: JSON.parse(document.response) as StoredResponse }),
  };
}
