// The idempotency store on the real MongoDB-wire server (FerretDB locally): claiming must be atomic without
// transactions, and what it stores must come back exactly.
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { fixedClock } from '@grantline/decider';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { InMemoryIdempotencyStore, runIdempotently } from './idempotency';
import { MongoIdempotencyStore } from './mongo-idempotency.store';

describe('MongoIdempotencyStore on a real MongoDB-wire server', () => {
  let connection: Connection;
  let store: MongoIdempotencyStore;
  const NOW = new Date('2025-06-02T10:00:00Z');

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('intake_idem')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
    store = new MongoIdempotencyStore(connection, fixedClock(NOW));
  });

  afterAll(async () => {
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
  });

  it('lets exactly one of many racing claims win', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim('race-1', 'fp', NOW, new Date(0))));
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
    expect(claims.filter((claim) => !claim.claimed)).toHaveLength(7);
  });

  it('behaves like the reference store: replay, 422, release on failure', async () => {
    const reference = new InMemoryIdempotencyStore();
    const outcomes = async (target: MongoIdempotencyStore | InMemoryIdempotencyStore): Promise<unknown[]> => {
      const results: unknown[] = [];
      const call = (fingerprint: string) => ({ scope: 'alice', key: 'k-ref', fingerprint, now: NOW });
      const settle = async (promise: Promise<{ response: unknown; replayed: boolean }>) =>
        promise.then(
          (outcome) => outcome,
          (error: unknown) => ({ error: (error as { problem?: { status: number } }).problem?.status }),
        );
      results.push(
        await settle(
          runIdempotently(target, call('a'), async () => {
            throw Object.assign(new Error('kafka down'), { problem: { status: 503 } });
          }),
        ),
      );
      results.push(await settle(runIdempotently(target, call('a'), async () => ({ status: 202, body: { id: 1, nested: { ok: true } } }))));
      results.push(await settle(runIdempotently(target, call('a'), async () => ({ status: 202, body: { id: 2 } }))));
      results.push(await settle(runIdempotently(target, call('b'), async () => ({ status: 202, body: { id: 3 } }))));
      return results;
    };
    const expected = await outcomes(reference);
    expect(await outcomes(store)).toEqual(expected);
    expect(expected).toEqual([
      { error: 503 },
      { response: { status: 202, body: { id: 1, nested: { ok: true } } }, replayed: false },
      { response: { status: 202, body: { id: 1, nested: { ok: true } } }, replayed: true },
      { error: 422 },
    ]);
  });

  it('takes over a pending claim only once it is stale', async () => {
    expect(await store.claim('stale-1', 'fp', NOW, new Date(0))).toEqual({ claimed: true });
    expect((await store.claim('stale-1', 'fp', NOW, new Date(0))).claimed).toBe(false);
    const later = new Date(NOW.getTime() + 120_000);
    expect(await store.claim('stale-1', 'fp', later, new Date(NOW.getTime() + 1))).toEqual({ claimed: true });
  });
});
