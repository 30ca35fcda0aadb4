// The idempotency store on the real MongoDB-wire server (FerretDB locally): claiming must be atomic without
// transactions, concurrent claims (and answers) must share one insertMany, and what it stores must come back exactly.
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { Idempotency, InMemoryIdempotencyStore } from './idempotency';
import type { IdempotencyClaim, IdempotencyStore } from './idempotency';
import { IDEMPOTENCY_COLLECTION, MongoIdempotencyStore } from './mongo-idempotency.store';

describe('MongoIdempotencyStore on a real MongoDB-wire server', () => {
  let connection: Connection;
  let store: MongoIdempotencyStore;
  const NOW = new Date('2025-06-02T10:00:00Z');
  const claim = (id: string, fingerprint = 'fp'): IdempotencyClaim => ({ id, fingerprint, claimedAt: NOW });

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('intake_idem')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
    store = new MongoIdempotencyStore(connection);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
  });

  it('lets exactly one of many racing claims for one key win, and gives the others what the key holds', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim(claim('race-1', `fp-${i}`))));
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
    const kept = await store.find('race-1');
    expect(kept).toEqual({ id: 'race-1', fingerprint: expect.stringMatching(/^fp-\d$/) });
    expect(results.filter((result) => !result.claimed)).toEqual(Array.from({ length: 7 }, () => ({ claimed: false, existing: kept })));
  });

  it('writes the claims of concurrent requests together: one unordered insertMany, each answered on its own', async () => {
    await store.claim(claim('batch-dup', 'first'));
    await store.answer('batch-dup', { status: 202, body: { id: 'first' } }, NOW);
    const insertMany = jest.spyOn(connection.collection(IDEMPOTENCY_COLLECTION), 'insertMany');
    const ids = Array.from({ length: 20 }, (_, i) => `batch-${i}`);
    const results = await Promise.all([...ids.map((id) => store.claim(claim(id))), store.claim(claim('batch-dup', 'second'))]);
    expect(insertMany).toHaveBeenCalledTimes(1);
    expect(insertMany.mock.calls[0]?.[1]).toEqual({ ordered: false });
    expect(results.slice(0, 20)).toEqual(ids.map(() => ({ claimed: true })));
    expect(results[20]).toEqual({ claimed: false, existing: { id: 'batch-dup', fingerprint: 'first', response: { status: 202, body: { id: 'first' } } } });
    insertMany.mockClear();
    await Promise.all(ids.map((id) => store.answer(id, { status: 202, body: { id } }, NOW)));
    expect(insertMany).toHaveBeenCalledTimes(1);
  });

  it('gives back exactly what it stored, keeps the first answer, and reads claims an older version left', async () => {
    const body = { requestId: 'req-1', nested: { ok: true, list: [1, 'two', null] }, 'odd.key': '$value' };
    await store.claim(claim('exact-1', 'fp-exact'));
    expect(await store.find('exact-1')).toEqual({ id: 'exact-1', fingerprint: 'fp-exact' });
    await store.answer('exact-1', { status: 202, body }, NOW);
    await store.answer('exact-1', { status: 202, body: { other: true } }, NOW);
    expect(await store.find('exact-1')).toEqual({ id: 'exact-1', fingerprint: 'fp-exact', response: { status: 202, body } });
    expect(await store.find('unknown')).toBeUndefined();
    const keys = connection.collection(IDEMPOTENCY_COLLECTION);
    await keys.insertOne({ _id: 'legacy-pending', fingerprint: 'fp', state: 'pending', startedAt: NOW } as never);
    await keys.insertOne({
      _id: 'legacy-done',
      fingerprint: 'fp',
      state: 'completed',
      startedAt: NOW,
      response: JSON.stringify({ status: 202, body }),
    } as never);
    expect(await store.find('legacy-pending')).toEqual({ id: 'legacy-pending', fingerprint: 'fp' });
    expect(await store.claim(claim('legacy-done'))).toEqual({
      claimed: false,
      existing: { id: 'legacy-done', fingerprint: 'fp', response: { status: 202, body } },
    });
  });

  it('behaves like the reference store: replay, 422, a failed call keeps its claim', async () => {
    const outcomes = async (target: IdempotencyStore): Promise<unknown[]> => {
      const idempotency = new Idempotency(target);
      const results: unknown[] = [];
      const call = (fingerprint: string) => ({ scope: 'alice', key: 'k-ref', fingerprint, now: NOW });
      const settle = async (promise: Promise<{ response: unknown; replayed: boolean }>) =>
        promise.then(
          (outcome) => outcome,
          (error: unknown) => ({ error: (error as { problem?: { status: number } }).problem?.status }),
        );
      results.push(
        await settle(
          idempotency.run(call('a'), async () => {
            throw Object.assign(new Error('kafka down'), { problem: { status: 503 } });
          }),
        ),
      );
      results.push(await settle(idempotency.run(call('a'), async () => ({ status: 202, body: { id: 1, nested: { ok: true } } }))));
      // Another instance: the answer comes from the store.
      results.push(await settle(new Idempotency(target).run(call('a'), async () => ({ status: 202, body: { id: 2 } }))));
      results.push(await settle(new Idempotency(target).run(call('b'), async () => ({ status: 202, body: { id: 3 } }))));
      // A key whose first call failed stays bound to its body.
      results.push(
        await settle(
          new Idempotency(target).run({ ...call('c'), key: 'k-failed' }, async () =>
            Promise.reject(Object.assign(new Error('down'), { problem: { status: 503 } })),
          ),
        ),
      );
      results.push(await settle(new Idempotency(target).run({ ...call('d'), key: 'k-failed' }, async () => ({ status: 202, body: { id: 4 } }))));
      results.push(await settle(new Idempotency(target).run({ ...call('c'), key: 'k-failed' }, async () => ({ status: 202, body: { id: 5 } }))));
      return results;
    };
    const expected = await outcomes(new InMemoryIdempotencyStore());
    expect(await outcomes(store)).toEqual(expected);
    expect(expected).toEqual([
      { error: 503 },
      { response: { status: 202, body: { id: 1, nested: { ok: true } } }, replayed: false },
      { response: { status: 202, body: { id: 1, nested: { ok: true } } }, replayed: true },
      { error: 422 },
      { error: 503 },
      { error: 422 },
      { response: { status: 202, body: { id: 5 } }, replayed: false },
    ]);
  });
});
