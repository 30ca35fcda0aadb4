import { createHash } from 'node:crypto';
import { PROBLEMS, ProblemException } from '@grantline/http-edge';
import { KeyedMutex } from '@grantline/service-kit';
import { canonicalJson } from '../catalog/catalog-file.schema';
import { INTAKE_PROBLEMS } from '../http/intake-problems';
import { BoundedMemory } from '../memory/bounded-memory';
import type { MemoryBounds } from '../memory/bounded-memory';

/** What is replayed to a retry: the original status and body. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

/** The claim on one (caller, key), inserted before the work: it binds the key to its first request for good. */
export interface IdempotencyClaim {
  readonly id: string;
  readonly fingerprint: string;
  readonly claimedAt: Date;
}

/** What the store holds for one (caller, key): the fingerprint of the request it is bound to, and its answer once stored. */
export interface IdempotencyRecord {
  readonly id: string;
  readonly fingerprint: string;
  /** Absent until the 2xx answer was stored (the call is running, or failed, or died before storing it). */
  readonly response?: StoredResponse;
}

type AnsweredRecord = IdempotencyRecord & { readonly response: StoredResponse };

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existing: IdempotencyRecord };

/**
 * Where keys are kept. Both writes are inserts; `claim` must be atomic on the id (a unique key): of racing claims one
 * wins, the others get back what the key holds.
 */
export interface IdempotencyStore {
  /** Binds the key to this request unless it is bound already; then answers with what the key holds. */
  claim(claim: IdempotencyClaim): Promise<ClaimResult>;
  /** Stores the answer of a claimed key (once; an answer already stored for it is kept). */
  answer(id: string, response: StoredResponse, answeredAt: Date): Promise<void>;
  find(id: string): Promise<IdempotencyRecord | undefined>;
}

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The answers one process remembers, so a retry that reaches it again is answered without publishing or reading. */
export const RECENT_ANSWERS: MemoryBounds = { maxEntries: 10_000, ttlMs: 10 * 60_000 };

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

export interface IdempotencyOptions {
  readonly recent?: MemoryBounds;
  /** Monotonic milliseconds for the memory's age bound (specs pass their own). */
  readonly monotonicNow?: () => number;
  /** The answer stood but could not be stored (logged by the endpoint). */
  readonly onUnrecorded?: (id: string, error: unknown) => void;
}

function assertSameRequest(record: IdempotencyRecord, fingerprint: string): void {
  if (record.fingerprint !== fingerprint) {
    throw ProblemException.of(INTAKE_PROBLEMS.idempotencyKeyReused, 'This Idempotency-Key was used for a different request', [
      { field: 'Idempotency-Key', message: 'already used with a different method, path or body' },
    ]);
  }
}

/**
 * The Idempotency-Key rules, failing closed: before the work, the key is claimed by one insert that binds it to the
 * request's fingerprint for the key's lifetime, so a key reused with another request is refused (422) before anything
 * is published, wherever and whenever it comes back. The inserted claim is the fast path (no read, no update); a
 * duplicate claim (a retry, or misuse) reads what the key holds: another request → 422; the same request with a
 * stored answer → that answer, `replayed`; the same request without one (the first attempt failed, died, or is still
 * running on another instance) → the work runs again, publishing the same events (their ids derive from the caller
 * and the key: duplicates consumers drop). After the work, its 2xx answer is stored by a second insert. Within one
 * process a call waits for one with the same key still running, then is answered from it; each process remembers
 * its recent answers, so a retry that comes back to it touches no store.
 */
export class Idempotency {
  private readonly inFlight = new KeyedMutex();
  private readonly recent: BoundedMemory<AnsweredRecord>;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly options: IdempotencyOptions = {},
  ) {
    this.recent = new BoundedMemory(options.recent ?? RECENT_ANSWERS, options.monotonicNow);
  }

  async run(call: IdempotentCall, execute: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
    if (call.key === undefined) return { response: await execute(), replayed: false };
    const id = idempotencyRecordId(call.scope, call.key);
    return this.inFlight.run(id, () => this.runOnce(id, call, execute));
  }

  private async runOnce(id: string, call: IdempotentCall, execute: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
    const known = this.recent.get(id);
    if (known) return this.replay(known, call.fingerprint);
    // Claim before publishing: a failed claim (the store is down) fails the call, and nothing is published.
    const claim = await this.store.claim({ id, fingerprint: call.fingerprint, claimedAt: call.now });
    if (!claim.claimed) {
      assertSameRequest(claim.existing, call.fingerprint);
      const { response } = claim.existing;
      if (response !== undefined) {
        this.recent.set(id, { ...claim.existing, response });
        return { response, replayed: true };
      }
      // Bound to this very request but never answered: run it again (the same ids), and answer it now.
    }
    // A failed or refused call (503, 409) keeps its claim: the key stays bound to this request.
    const response = await execute();
    if (response.status < 200 || response.status >= 300) return { response, replayed: false };
    const answered: AnsweredRecord = { id, fingerprint: call.fingerprint, response };
    try {
      await this.store.answer(id, response, call.now);
    } catch (error) {
      // The event was acknowledged: it is a fact, and the answer says so. Without a stored answer, a retry elsewhere
      // finds the claim alone and runs again: it publishes the same event id (a duplicate), then stores the answer.
      this.options.onUnrecorded?.(id, error);
    }
    this.recent.set(id, answered);
    return { response, replayed: false };
  }

  private replay(record: AnsweredRecord, fingerprint: string): IdempotentOutcome {
    assertSameRequest(record, fingerprint);
    return { response: record.response, replayed: true };
  }
}

/** For unit specs and single-process use. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly claims = new Map<string, IdempotencyClaim>();
  readonly answers = new Map<string, StoredResponse>();

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    const existing = await this.find(claim.id);
    if (existing) return { claimed: false, existing };
    this.claims.set(claim.id, claim);
    return { claimed: true };
  }

  async answer(id: string, response: StoredResponse): Promise<void> {
    if (!this.answers.has(id)) this.answers.set(id, response);
  }

  async find(id: string): Promise<IdempotencyRecord | undefined> {
    const claim = this.claims.get(id);
    if (claim === undefined) return undefined;
    const response = this.answers.get(id);
    return { id, fingerprint: claim.fingerprint, ...(response === undefined ? {} : { response }) };
  }
}
