import { ProblemException } from '@grantline/http-edge';
import { INTAKE_PROBLEMS } from '../http/intake-problems';
import { Idempotency, InMemoryIdempotencyStore, fingerprintOf, idempotencyRecordId, validateIdempotencyKey } from './idempotency';
import type { ClaimResult, IdempotencyClaim, StoredResponse } from './idempotency';

const NOW = new Date('2025-06-02T10:00:00Z');
const accepted = (n: number): StoredResponse => ({ status: 202, body: { requestId: `req-${n}` } });
const statusOf = async (promise: Promise<unknown>): Promise<number | undefined> =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ProblemException ? error.problem.status : -1),
  );

/** The in-memory store, counting what the path asks of it (a duplicate claim reads: counted as a find). */
class CountingStore extends InMemoryIdempotencyStore {
  finds = 0;
  writes = 0;
  failClaims = false;
  failAnswers = false;

  override async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    this.writes += 1;
    if (this.failClaims) throw new Error('store down');
    const result = await super.claim(claim);
    if (!result.claimed) this.finds += 1;
    return result;
  }

  override async answer(id: string, response: StoredResponse): Promise<void> {
    this.writes += 1;
    if (this.failAnswers) throw new Error('store down');
    return super.answer(id, response);
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Idempotency', () => {
  let store: CountingStore;
  let idempotency: Idempotency;
  let runs: number;
  let unrecorded: string[];
  const execute = async (): Promise<StoredResponse> => accepted(++runs);
  const call = (key: string | undefined, body: unknown = { a: 1 }, scope = 'alice', now = NOW) => ({
    scope,
    key,
    fingerprint: fingerprintOf('POST', '/v1/requests', body),
    now,
  });
  /** Another instance (or this one after a restart): the same store, none of the memory. */
  const elsewhere = (): Idempotency => new Idempotency(store);

  beforeEach(() => {
    store = new CountingStore();
    unrecorded = [];
    idempotency = new Idempotency(store, { onUnrecorded: (id) => unrecorded.push(id) });
    runs = 0;
  });

  it('runs every call without a key, and stores nothing for it', async () => {
    await idempotency.run(call(undefined), execute);
    await idempotency.run(call(undefined), execute);
    expect(runs).toBe(2);
    expect(store.writes + store.finds).toBe(0);
  });

  it('claims the key before the work and stores the answer after it: two inserts, no read, no update', async () => {
    const id = idempotencyRecordId('alice', 'k1');
    let whileRunning: unknown;
    const outcome = await idempotency.run(call('k1'), async () => {
      whileRunning = { claimed: store.claims.has(id), answered: store.answers.has(id) };
      return accepted(1);
    });
    expect(outcome).toEqual({ response: accepted(1), replayed: false });
    expect(whileRunning).toEqual({ claimed: true, answered: false });
    expect({ writes: store.writes, finds: store.finds }).toEqual({ writes: 2, finds: 0 });
    expect(store.claims.get(id)).toEqual({ id, fingerprint: fingerprintOf('POST', '/v1/requests', { a: 1 }), claimedAt: NOW });
    expect(await store.find(id)).toEqual({ id, fingerprint: fingerprintOf('POST', '/v1/requests', { a: 1 }), response: accepted(1) });
  });

  it('given an answered key, when the same request comes again, then the original answer is replayed without running', async () => {
    const first = await idempotency.run(call('k1'), execute);
    const second = await idempotency.run(call('k1'), execute);
    expect(first).toEqual({ response: accepted(1), replayed: false });
    expect(second).toEqual({ response: accepted(1), replayed: true });
    expect(runs).toBe(1);
    // This instance remembers its answer: the retry touched no store.
    expect({ writes: store.writes, finds: store.finds }).toEqual({ writes: 2, finds: 0 });
  });

  it('given a key answered elsewhere, then the retry replays the answer stored, without running', async () => {
    await idempotency.run(call('k1'), execute);
    const again = await elsewhere().run(call('k1'), execute);
    expect(again).toEqual({ response: accepted(1), replayed: true });
    expect(runs).toBe(1);
  });

  it('treats bodies with the same content in another key order as the same request', async () => {
    await idempotency.run(call('k1', { a: 1, b: { c: 2, d: 3 } }), execute);
    const again = await idempotency.run(call('k1', { b: { d: 3, c: 2 }, a: 1 }), execute);
    expect(again.replayed).toBe(true);
  });

  it('answers 422 when the key is reused with a different body, and never runs it: here from memory, elsewhere from the claim', async () => {
    await idempotency.run(call('k1', { a: 1 }), execute);
    expect(await statusOf(idempotency.run(call('k1', { a: 2 }), execute))).toBe(422);
    expect(runs).toBe(1);
    // An instance with an empty memory: its claim meets the first one, and nothing is published.
    expect(await statusOf(elsewhere().run(call('k1', { a: 2 }), execute))).toBe(422);
    expect(runs).toBe(1);
  });

  it('answers 422 for another body while the first call with the key is still running on another instance, without running it', async () => {
    const release = deferred<StoredResponse>();
    const first = idempotency.run(call('k1'), () => {
      runs += 1;
      return release.promise;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await statusOf(elsewhere().run(call('k1', { a: 2 }), execute))).toBe(422);
    expect(runs).toBe(1);
    release.resolve(accepted(1));
    expect(await first).toEqual({ response: accepted(1), replayed: false });
  });

  it('makes a second call with a key still running wait for the first, then answers it from the first: the work runs once', async () => {
    const release = deferred<StoredResponse>();
    const first = idempotency.run(call('k1'), () => {
      runs += 1;
      return release.promise;
    });
    const second = idempotency.run(call('k1'), execute);
    const other = idempotency.run(call('k1', { a: 2 }), execute);
    const settled: string[] = [];
    void second.then(() => settled.push('second'));
    // Whatever else runs meanwhile, the second call is still waiting: nothing ran for it.
    await idempotency.run(call('k2'), execute);
    expect(settled).toEqual([]);
    expect(runs).toBe(2);
    release.resolve(accepted(1));
    expect(await first).toEqual({ response: accepted(1), replayed: false });
    expect(await second).toEqual({ response: accepted(1), replayed: true });
    expect(await statusOf(other)).toBe(422);
    expect(runs).toBe(2);
  });

  it('keeps the claim of a failed attempt (503): a retry with the same body runs for real, one with another body gets 422', async () => {
    const failing = idempotency.run(call('k1'), async () => {
      throw ProblemException.of(INTAKE_PROBLEMS.eventLogUnavailable, 'kafka down');
    });
    expect(await statusOf(failing)).toBe(503);
    expect(store.answers.size).toBe(0);
    expect(await statusOf(elsewhere().run(call('k1', { a: 2 }), execute))).toBe(422);
    expect(runs).toBe(0);
    const retry = await idempotency.run(call('k1'), execute);
    expect(retry).toEqual({ response: accepted(1), replayed: false });
    expect(await elsewhere().run(call('k1'), execute)).toEqual({ response: accepted(1), replayed: true });
  });

  it('fails the call and runs nothing when the key cannot be claimed', async () => {
    store.failClaims = true;
    await expect(idempotency.run(call('k1'), execute)).rejects.toThrow('store down');
    expect(runs).toBe(0);
  });

  it('does not keep a non-2xx answer', async () => {
    await idempotency.run(call('k1'), async () => ({ status: 404, body: {} }));
    expect((await idempotency.run(call('k1'), execute)).replayed).toBe(false);
  });

  it('given a withdrawal retried after it succeeded (the request is closed now), then the first answer is given, not the refusal', async () => {
    await idempotency.run(call('k1'), execute);
    const closed = async (): Promise<StoredResponse> => {
      throw ProblemException.of(INTAKE_PROBLEMS.requestClosed, 'already withdrawn');
    };
    expect(await elsewhere().run(call('k1'), closed)).toEqual({ response: accepted(1), replayed: true });
    expect(await statusOf(elsewhere().run(call('k1', { a: 2 }), closed))).toBe(422);
    expect(await statusOf(elsewhere().run(call('k2'), closed))).toBe(409);
  });

  it('given an answer that cannot be stored after the ack, then it stands (it is a fact), is reported, and a later retry elsewhere runs again and stores it', async () => {
    store.failAnswers = true;
    expect(await idempotency.run(call('k1'), execute)).toEqual({ response: accepted(1), replayed: false });
    expect(unrecorded).toEqual([idempotencyRecordId('alice', 'k1')]);
    // This instance still answers its retries from memory...
    expect(await idempotency.run(call('k1'), execute)).toEqual({ response: accepted(1), replayed: true });
    // ...another finds the claim alone: it runs the work again (the same event id) and stores the answer then.
    store.failAnswers = false;
    expect(await elsewhere().run(call('k1'), execute)).toEqual({ response: accepted(2), replayed: false });
    expect(store.answers.has(idempotencyRecordId('alice', 'k1'))).toBe(true);
    // The claim still binds the key to the first body.
    expect(await statusOf(elsewhere().run(call('k1', { a: 2 }), execute))).toBe(422);
  });

  it('keeps keys per caller', async () => {
    await idempotency.run(call('k1', { a: 1 }, 'alice'), execute);
    const bob = await idempotency.run(call('k1', { a: 2 }, 'bob'), execute);
    expect(bob).toEqual({ response: accepted(2), replayed: false });
  });

  it('forgets its own answers past the memory bound, and then answers from the store', async () => {
    let clock = 0;
    const small = new Idempotency(store, { recent: { maxEntries: 1, ttlMs: 1_000 }, monotonicNow: () => clock });
    await small.run(call('k1'), execute);
    await small.run(call('k2'), execute);
    clock += 2_000;
    expect(await small.run(call('k1'), execute)).toEqual({ response: accepted(1), replayed: true });
    expect(runs).toBe(2);
    expect(store.finds).toBe(1);
  });
});

describe('validateIdempotencyKey', () => {
  it('accepts visible ASCII up to 200 characters and rejects the rest naming the header', () => {
    expect(validateIdempotencyKey('a1-b2_c3:uuid')).toBe('a1-b2_c3:uuid');
    expect(validateIdempotencyKey(undefined)).toBeUndefined();
    for (const bad of ['', 'has space', 'x'.repeat(201), 'é']) {
      try {
        validateIdempotencyKey(bad);
        throw new Error(`accepted ${bad}`);
      } catch (error) {
        expect((error as ProblemException).problem).toMatchObject({ status: 400, errors: [{ field: 'Idempotency-Key' }] });
      }
    }
  });
});
