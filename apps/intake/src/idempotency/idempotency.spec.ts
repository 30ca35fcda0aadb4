import { ProblemException } from '@grantline/http-edge';
import { INTAKE_PROBLEMS } from '../http/intake-problems';
import { InMemoryIdempotencyStore, PENDING_CLAIM_STALE_MS, fingerprintOf, idempotencyRecordId, runIdempotently, validateIdempotencyKey } from './idempotency';
import type { StoredResponse } from './idempotency';

const NOW = new Date('2025-06-02T10:00:00Z');
const accepted = (n: number): StoredResponse => ({ status: 202, body: { requestId: `req-${n}` } });
const statusOf = async (promise: Promise<unknown>): Promise<number | undefined> =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ProblemException ? error.problem.status : -1),
  );

describe('runIdempotently', () => {
  let store: InMemoryIdempotencyStore;
  let runs: number;
  const execute = async (): Promise<StoredResponse> => accepted(++runs);
  const call = (key: string | undefined, body: unknown = { a: 1 }, scope = 'alice', now = NOW) => ({
    scope,
    key,
    fingerprint: fingerprintOf('POST', '/v1/requests', body),
    now,
  });

  beforeEach(() => {
    store = new InMemoryIdempotencyStore();
    runs = 0;
  });

  it('runs every call without a key', async () => {
    await runIdempotently(store, call(undefined), execute);
    await runIdempotently(store, call(undefined), execute);
    expect(runs).toBe(2);
  });

  it('given a completed key, when the same request comes again, then the original answer is replayed without running', async () => {
    const first = await runIdempotently(store, call('k1'), execute);
    const second = await runIdempotently(store, call('k1'), execute);
    expect(first).toEqual({ response: accepted(1), replayed: false });
    expect(second).toEqual({ response: accepted(1), replayed: true });
    expect(runs).toBe(1);
  });

  it('treats bodies with the same content in another key order as the same request', async () => {
    await runIdempotently(store, call('k1', { a: 1, b: { c: 2, d: 3 } }), execute);
    const again = await runIdempotently(store, call('k1', { b: { d: 3, c: 2 }, a: 1 }), execute);
    expect(again.replayed).toBe(true);
  });

  it('answers 422 when the key is reused with a different body', async () => {
    await runIdempotently(store, call('k1', { a: 1 }), execute);
    expect(await statusOf(runIdempotently(store, call('k1', { a: 2 }), execute))).toBe(422);
    expect(runs).toBe(1);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    let release: () => void = () => undefined;
    const slow = runIdempotently(store, call('k1'), () => new Promise<StoredResponse>((resolve) => (release = () => resolve(accepted(1)))));
    expect(await statusOf(runIdempotently(store, call('k1'), execute))).toBe(409);
    release();
    await slow;
  });

  it('forgets a failed attempt, so the retry runs for real', async () => {
    const failing = runIdempotently(store, call('k1'), async () => {
      throw ProblemException.of(INTAKE_PROBLEMS.eventLogUnavailable, 'kafka down');
    });
    expect(await statusOf(failing)).toBe(503);
    const retry = await runIdempotently(store, call('k1'), execute);
    expect(retry).toEqual({ response: accepted(1), replayed: false });
  });

  it('does not keep a non-2xx answer', async () => {
    await runIdempotently(store, call('k1'), async () => ({ status: 404, body: {} }));
    expect((await runIdempotently(store, call('k1'), execute)).replayed).toBe(false);
  });

  it('takes over a pending claim abandoned longer than the stale limit', async () => {
    await store.claim(idempotencyRecordId('alice', 'k1'), fingerprintOf('POST', '/v1/requests', { a: 1 }), NOW, NOW);
    const later = new Date(NOW.getTime() + PENDING_CLAIM_STALE_MS + 1);
    expect(await runIdempotently(store, call('k1', { a: 1 }, 'alice', later), execute)).toEqual({ response: accepted(1), replayed: false });
  });

  it('keeps keys per caller', async () => {
    await runIdempotently(store, call('k1', { a: 1 }, 'alice'), execute);
    const bob = await runIdempotently(store, call('k1', { a: 2 }, 'bob'), execute);
    expect(bob).toEqual({ response: accepted(2), replayed: false });
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
