// The request read model on the real MongoDB-wire server: grant events find their request through the grant ids,
// redelivery changes nothing, and concurrent writers (the HTTP path and the consumer) lose no update.
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { activated, approved, decided, revoked, submitted } from '../testing/lifecycle.builders';
import { RequestStatusStore } from './request-status.store';

describe('RequestStatusStore on a real MongoDB-wire server', () => {
  let connection: Connection;
  let store: RequestStatusStore;

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('intake_status')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
    store = new RequestStatusStore(connection);
  });

  afterAll(async () => {
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
  });

  it('follows a request to provisioned and revoked, grant events found by grant id, redelivery a no-op', async () => {
    const grant = 'req-store-1:orders-staging-read';
    const events = [submitted({ requestId: 'req-store-1' }), decided('auto_approve', 'req-store-1'), approved('req-store-1'), activated(grant)];
    for (const event of events) await store.apply(event);
    expect(await store.get('req-store-1')).toMatchObject({ status: 'provisioned', grants: [{ grantId: grant, state: 'active' }] });
    expect(await store.findByGrant(grant)).toMatchObject({ requestId: 'req-store-1' });

    for (const event of events) expect(await store.apply(event)).toBeUndefined();
    expect((await store.get('req-store-1'))?.timeline).toHaveLength(4);

    const revocation = revoked(grant);
    expect((await store.apply(revocation))?.ticketStatus).toEqual({ status: 'revoked', reasons: [] });
    expect((await store.get('req-store-1'))?.status).toBe('revoked');
  });

  it('loses no update when writers race on one request', async () => {
    await store.apply(submitted({ requestId: 'req-store-2' }));
    const grants = ['a', 'b', 'c', 'd'];
    await store.apply(approved('req-store-2', grants));
    await Promise.all(grants.map((g) => store.apply(activated(`req-store-2:${g}`))));
    const view = await store.get('req-store-2');
    expect(view?.grants.map((g) => g.state)).toEqual(['active', 'active', 'active', 'active']);
    expect(view?.status).toBe('provisioned');
    expect(view?.timeline).toHaveLength(6);
  });
});
