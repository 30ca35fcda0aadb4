import { createHash } from 'node:crypto';
import { canonicalJson } from '../catalog/catalog-file.schema';
import { PROBLEMS, ProblemException } from '@grantline/http-edge';
import { INTAKE_PROBLEMS } from '../http/intake-problems';

/** What is replayed to a retry: the original status and body. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface IdempotencyRecord {
  readonly id: string;
  readonly fingerprint: string;
  readonly state: 'pending' | 'completed';
  readonly startedAt: Date;
  readonly response?: StoredResponse;
}

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existing: IdempotencyRecord };

/** Where keys live. `claim` must be atomic (a unique key): two racing requests never both claim. */
export interface IdempotencyStore {
  /** Claims the key; a pending claim older than `staleBefore` (its holder died) may be taken over. */
  claim(id: string, fingerprint: string, now: Date, staleBefore: Date): Promise<ClaimResult>;
  complete(id: string, response: StoredResponse): Promise<void>;
  /** Forgets a claim whose request failed, so a retry with the same key runs again. */
  release(id: string): Promise<void>;
}

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** A pending claim is considered abandoned after this long (the request timed out long before). */
export const PENDING_CLAIM_STALE_MS = 60_000;

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface IdempotentCall {
  /** Keys are per caller: two users choosing the same key never see each other's answers. */
  readonly scope: string;
  readonly key: string | undefined;
  /** Identifies the request: method, route and canonical body. */
  readonly fingerprint: string;
  readonly now: Date;
}

export function fingerprintOf(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${route}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

export function idempotencyRecordId(scope: string, key: string): string {
  return createHash('sha256').update(`${scope.length}:${scope}\u0000${key}`).digest('hex');
}

export function validateIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw ProblemException.of(PROBLEMS.invalidRequest, 'Idempotency-Key must be 1-200 visible ASCII characters', [
      { field: 'Idempotency-Key', message: 'expected 1-200 visible ASCII characters' },
    ]);
  }
  return key;
}

export interface IdempotentOutcome {
  readonly response: StoredResponse;
  /** true when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean;
}

/**
 * Same key + same request → the original answer (without running it again); same key + another request → 422;
 * same key while the first is still running → 409. Only successful answers are kept: a failed attempt (503,
 * say) releases the key so the client's retry runs for real.
 */
export async function runIdempotently(store: IdempotencyStore, call: IdempotentCall, execute: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
  if (call.key === undefined) return { response: await execute(), replayed: false };
  const id = idempotencyRecordId(call.scope, call.key);
  const claim = await store.claim(id, call.fingerprint, call.now, new Date(call.now.getTime() - PENDING_CLAIM_STALE_MS));
  if (!claim.claimed) {
    const { existing } = claim;
    if (existing.fingerprint !== call.fingerprint) {
      throw ProblemException.of(INTAKE_PROBLEMS.idempotencyKeyReused, 'This Idempotency-Key was used for a different request', [
        { field: 'Idempotency-Key', message: 'already used with a different method, path or body' },
      ]);
    }
    if (existing.state === 'completed' && existing.response) return { response: existing.response, replayed: true };
    throw ProblemException.of(INTAKE_PROBLEMS.idempotencyKeyInUse, 'A request with this Idempotency-Key is still being processed; retry shortly', [
      { field: 'Idempotency-Key', message: 'in progress' },
    ]);
  }
  let response: StoredResponse;
  try {
    response = await execute();
  } catch (error) {
    await store.release(id).catch(() => undefined);
    throw error;
  }
  if (response.status >= 200 && response.status < 300) await store.complete(id, response);
  else await store.release(id);
  return { response, replayed: false };
}

/** For unit specs and single-process use. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();

  async claim(id: string, fingerprint: string, now: Date, staleBefore: Date): Promise<ClaimResult> {
    const existing = this.records.get(id);
    if (existing && !(existing.state === 'pending' && existing.startedAt < staleBefore && existing.fingerprint === fingerprint)) {
      return { claimed: false, existing };
    }
    this.records.set(id, { id, fingerprint, state: 'pending', startedAt: now });
    return { claimed: true };
  }

  async complete(id: string, response: StoredResponse): Promise<void> {
    const existing = this.records.get(id);
    if (existing) this.records.set(id, { ...existing, state: 'completed', response });
  }

  async release(id: string): Promise<void> {
    const existing = this.records.get(id);
    if (existing?.state === 'pending') this.records.delete(id);
  }
}
