// The request read model on the real MongoDB-wire server: grant events find their request through the grant ids,
// redelivery changes nothing, concurrent writers (the HTTP path and the consumer) lose no update, and events that
// arrive before their request (or grant) is known wait parked until it is.
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { systemClock } from '@grantline/decider';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { activated, approved, decided, grantCreated, revoked, submitted } from '../testing/lifecycle.builders';
import type { Envelope } from '@grantline/contracts';
import { PARKED_EVENTS_COLLECTION, ParkedEvents } from './parked-events.store';
import { IdentityDirectory, REQUEST_STATUS_COLLECTION, RequestStatusStore } from './request-status.store';
import type { ProjectedBatch } from './request-status.store';

describe('RequestStatusStore on a real MongoDB-wire server', () => {
  let connection: Connection;
  let store: RequestStatusStore;

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('intake_status')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
    store = new RequestStatusStore(connection, systemClock);
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

    for (const event of events) expect(await store.apply(event)).toEqual([]);
    expect((await store.get('req-store-1'))?.timeline).toHaveLength(4);

    const revocation = revoked(grant);
    expect((await store.apply(revocation))[0]?.ticketStatus).toEqual({ status: 'revoked', reasons: [] });
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

  const parkedIds = async (): Promise<string[]> => (await connection.collection(PARKED_EVENTS_COLLECTION).find({}).toArray()).map((d) => String(d._id)).sort();
  const statusesOf = (evolutions: readonly { ticketStatus?: { status: string } }[]): (string | undefined)[] => evolutions.map((e) => e.ticketStatus?.status);

  it('parks a decision that arrives before the submission, and applies it when the request is submitted', async () => {
    const submission = submitted({ requestId: 'req-park-1' });
    const decision = decided('require_approval', 'req-park-1');
    expect(await store.apply(decision)).toEqual([]);
    expect(await store.get('req-park-1')).toBeUndefined();
    expect(await parkedIds()).toContain(decision.id);

    const evolutions = await store.apply(submission);
    expect(evolutions.map((e) => e.event.id)).toEqual([submission.id, decision.id]);
    expect(statusesOf(evolutions)).toEqual(['received', 'pending_approval']);
    const view = await store.get('req-park-1');
    expect(view?.status).toBe('pending_approval');
    expect(view?.timeline.map((entry) => entry.eventId)).toEqual([submission.id, decision.id]);
    expect(await parkedIds()).not.toContain(decision.id);

    // Redelivered, both are no-ops and nothing parks again.
    expect(await store.apply(decision)).toEqual([]);
    expect(await store.apply(submission)).toEqual([]);
    expect(await parkedIds()).not.toContain(decision.id);
  });

  it('reaches provisioned when approval, grant creation and activation all arrive before the submission', async () => {
    const grant = 'req-park-2:orders-staging-read';
    const submission = submitted({ requestId: 'req-park-2' });
    const early = [decided('auto_approve', 'req-park-2'), approved('req-park-2'), grantCreated('req-park-2', 'orders-staging-read'), activated(grant)];
    // Delivered newest first: the drain restores event-time order.
    for (const event of [...early].reverse()) expect(await store.apply(event)).toEqual([]);
    expect(await parkedIds()).toEqual(expect.arrayContaining(early.map((e) => e.id)));

    const evolutions = await store.apply(submission);
    expect(evolutions.map((e) => e.event.id)).toEqual([submission.id, ...early.map((e) => e.id)]);
    expect(statusesOf(evolutions)).toEqual(['received', 'approved', undefined, undefined, 'provisioned']);
    expect(await store.get('req-park-2')).toMatchObject({ status: 'provisioned', grants: [{ grantId: grant, state: 'active' }] });
    expect((await store.get('req-park-2'))?.timeline).toHaveLength(5);
    expect(await parkedIds()).toEqual(expect.not.arrayContaining(early.map((e) => e.id)));
  });

  it('parks an activation whose grant no view knows yet (once, however often delivered), and applies it when the grant is created', async () => {
    const grant = 'req-park-3:db-write';
    await store.apply(submitted({ requestId: 'req-park-3', items: { entitlementIds: ['db-write'] } }));
    await store.apply(decided('auto_approve', 'req-park-3'));
    const activation = activated(grant);
    expect(await store.apply(activation)).toEqual([]);
    expect(await store.apply(activation)).toEqual([]);
    expect((await parkedIds()).filter((id) => id === activation.id)).toHaveLength(1);
    expect((await store.get('req-park-3'))?.status).toBe('approved');

    const creation = grantCreated('req-park-3', 'db-write');
    const evolutions = await store.apply(creation);
    expect(evolutions.map((e) => e.event.id)).toEqual([creation.id, activation.id]);
    expect(statusesOf(evolutions)).toEqual([undefined, 'provisioned']);
    expect(await store.get('req-park-3')).toMatchObject({ status: 'provisioned', grants: [{ grantId: grant, state: 'active' }] });
    expect(await parkedIds()).not.toContain(activation.id);
    expect(await store.apply(activation)).toEqual([]);
  });

  it('applies events still parked after a crash between creating the view and draining, on the redelivered submission', async () => {
    const submission = submitted({ requestId: 'req-park-4' });
    await store.apply(submission);
    // The crash: a decision parked, the view written by a process that died before it drained.
    const decision = decided('deny', 'req-park-4');
    const parked = connection.collection<{ _id: string; requestId: string; envelope: string; arrival: number; parkedAt: string }>(PARKED_EVENTS_COLLECTION);
    await parked.insertOne({ _id: decision.id, requestId: 'req-park-4', envelope: JSON.stringify(decision), arrival: 0, parkedAt: new Date().toISOString() });

    const evolutions = await store.apply(submission);
    expect(evolutions.map((e) => e.event.id)).toEqual([decision.id]);
    expect(statusesOf(evolutions)).toEqual(['denied']);
    expect(await parkedIds()).not.toContain(decision.id);
  });

  it('releases a parked grant event even when its grant is attached while it is being parked', async () => {
    await store.apply(submitted({ requestId: 'req-park-5', items: { entitlementIds: ['a', 'b', 'c'] } }));
    const activations = ['a', 'b', 'c'].map((e) => activated(`req-park-5:${e}`));
    const results = await Promise.all([store.apply(approved('req-park-5', ['a', 'b', 'c'])), ...activations.map((event) => store.apply(event))]);
    const applied = results.flat().map((e) => e.event.id);
    for (const event of activations) expect(applied.filter((id) => id === event.id)).toHaveLength(1);
    expect((await store.get('req-park-5'))?.status).toBe('provisioned');
    expect(await parkedIds()).toEqual(expect.not.arrayContaining(activations.map((e) => e.id)));
  });

  it('releases a grant event parked just after another writer attached its grant and drained', async () => {
    await store.apply(submitted({ requestId: 'req-park-6' }));
    const activation = activated('req-park-6:orders-staging-read');
    const park = ParkedEvents.prototype.parkAll;
    const spy = jest.spyOn(ParkedEvents.prototype, 'parkAll').mockImplementationOnce(async function (
      this: ParkedEvents,
      ...args: Parameters<ParkedEvents['parkAll']>
    ) {
      // After this writer looked the grant up and found no view: another instance attaches the grant and drains
      // (finding nothing parked yet), and only then does this writer park.
      await new RequestStatusStore(connection, systemClock).apply(approved('req-park-6'));
      return park.apply(this, args);
    });
    try {
      const evolutions = await store.apply(activation);
      expect(spy).toHaveBeenCalled();
      expect(evolutions.map((e) => e.event.id)).toEqual([activation.id]);
    } finally {
      spy.mockRestore();
    }
    expect((await store.get('req-park-6'))?.status).toBe('provisioned');
    expect(await parkedIds()).not.toContain(activation.id);
  });

  describe('a batch at a time', () => {
    const lifecycleOf = (requestId: string, channel: 'api' | 'itsm' = 'api') => [
      submitted({ requestId, channel, ...(channel === 'itsm' ? { ticket: { system: 'servicenow' as const, id: `RITM-${requestId}` } } : {}) }),
      decided('require_approval', requestId),
      approved(requestId),
      grantCreated(requestId, 'orders-staging-read'),
      activated(`${requestId}:orders-staging-read`),
    ];

    it('given a request whole in one batch (submitted, decided, approved, grant created, activated), ends in the view one event at a time gives', async () => {
      const events = lifecycleOf('req-batch-1');
      // The same events one at a time, into a database of their own.
      const reference = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('intake_status_ref')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
      try {
        const oneByOne = new RequestStatusStore(reference, systemClock);
        for (const event of events) await oneByOne.apply(event);

        const result = await store.applyBatch(events);

        expect(result.applied.map((change) => change.event.id)).toEqual(events.map((event) => event.id));
        expect(result.ticketStatuses.map((change) => change.status)).toEqual(['received', 'pending_approval', 'approved', 'provisioned']);
        const view = await store.get('req-batch-1');
        expect(view).toMatchObject({ status: 'provisioned', grants: [{ grantId: 'req-batch-1:orders-staging-read', state: 'active' }] });
        expect(view?.timeline.map((entry) => entry.eventId)).toEqual(events.map((event) => event.id));
        expect(view).toEqual(await oneByOne.get('req-batch-1'));
        expect(await store.findByGrant('req-batch-1:orders-staging-read')).toEqual(view);
      } finally {
        await reference.dropDatabase().catch(() => undefined);
        await reference.close();
      }
    });

    it('parks the events whose request arrives later in the same batch and drains them there: nothing stays parked', async () => {
      const [submission, ...early] = lifecycleOf('req-batch-3');
      const result = await store.applyBatch([...early].reverse().concat(submission!));
      expect(result.applied.map((change) => change.event.id)).toEqual([submission!.id, ...early.map((event) => event.id)]);
      expect(result.ticketStatuses.every((change) => change.batchIndex === early.length)).toBe(true);
      expect(await store.get('req-batch-3')).toMatchObject({ status: 'provisioned' });
      expect(await parkedIds()).toEqual(expect.not.arrayContaining(early.map((event) => event.id)));
    });

    it('given a batch delivered again, changes nothing and tells the same ticket statuses', async () => {
      const events = [...lifecycleOf('req-batch-4', 'itsm'), revoked('req-batch-4:orders-staging-read')];
      const batch = [events[1]!, events[0]!, ...events.slice(2)];
      const first = await store.applyBatch(batch);
      const stored = await connection.collection(REQUEST_STATUS_COLLECTION).findOne({ _id: 'req-batch-4' as never });

      const again = await store.applyBatch(batch);

      expect(again.applied).toEqual([]);
      // What a ticket status is made of: the view's request, channel and ticket (the view itself is the latest).
      const told = (batch: ProjectedBatch) =>
        batch.ticketStatuses.map(({ view, ...change }) => ({ ...change, to: [view.requestId, view.channel, view.ticket] }));
      expect(told(again)).toEqual(told(first));
      expect(again.ticketStatuses.map((change) => [change.status, change.cause.id])).toEqual([
        ['received', events[0]!.id],
        ['pending_approval', events[1]!.id],
        ['approved', events[2]!.id],
        ['provisioned', events[4]!.id],
        ['revoked', events[5]!.id],
      ]);
      expect(await connection.collection(REQUEST_STATUS_COLLECTION).findOne({ _id: 'req-batch-4' as never })).toEqual(stored);
      expect(await parkedIds()).toEqual(expect.not.arrayContaining(batch.map((event) => event.id)));
    });

    it('loses no update when another instance writes the request between this batch reading and writing it: it folds again', async () => {
      const grants = ['a', 'b', 'c', 'd'];
      await store.applyBatch([submitted({ requestId: 'req-batch-5' }), approved('req-batch-5', grants)]);
      const theirs = [activated('req-batch-5:c'), activated('req-batch-5:d')];
      const mine = [activated('req-batch-5:a'), activated('req-batch-5:b')];
      // Sequenced, not raced: FerretDB v1 does not isolate a revision-guarded replace from a concurrent one (both can
      // match); MongoDB does. The race this proves is the one MongoDB lets the guard see.
      const waitingForAll = ParkedEvents.prototype.waitingForAll;
      const spy = jest.spyOn(ParkedEvents.prototype, 'waitingForAll').mockImplementationOnce(async function (
        this: ParkedEvents,
        ...args: Parameters<ParkedEvents['waitingForAll']>
      ) {
        await new RequestStatusStore(connection, systemClock).applyBatch(theirs);
        return waitingForAll.apply(this, args);
      });
      try {
        const result = await store.applyBatch(mine);
        expect(spy).toHaveBeenCalled();
        expect(result.applied.map((change) => change.event.id)).toEqual(mine.map((event) => event.id));
      } finally {
        spy.mockRestore();
      }
      const view = await store.get('req-batch-5');
      expect(view?.grants.map((g) => g.state)).toEqual(['active', 'active', 'active', 'active']);
      expect(view?.status).toBe('provisioned');
      expect(view?.timeline.map((entry) => entry.eventId).slice(2)).toEqual([...theirs, ...mine].map((event) => event.id));
    });

    it('makes as many collection operations for a batch of 100 events as for one of 5', async () => {
      const monitored = await mongoose
        .createConnection(mongoDatabaseUrl(connection.name), { serverSelectionTimeoutMS: 10_000, monitorCommands: true })
        .asPromise();
      try {
        const counted = new RequestStatusStore(monitored, systemClock);
        const commands: string[] = [];
        monitored.getClient().on('commandStarted', (started) => commands.push(started.commandName));
        const operationsFor = async (events: readonly Envelope[]): Promise<string[]> => {
          commands.length = 0;
          await counted.applyBatch(events);
          return [...commands];
        };
        const requests = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
        // Indexes are ensured once per process, by its first batch.
        await operationsFor(lifecycleOf('req-count-warm'));

        const small = requests('req-count-s', 1);
        const large = requests('req-count-l', 20);
        const created = [await operationsFor(small.flatMap((id) => lifecycleOf(id))), await operationsFor(large.flatMap((id) => lifecycleOf(id)))];
        const revokedAll = [
          await operationsFor(small.map((id) => revoked(`${id}:orders-staging-read`))),
          await operationsFor(large.map((id) => revoked(`${id}:orders-staging-read`))),
        ];

        // New documents: read them, read their parked events, insert them. Then replacements, guarded by revision.
        expect(created[0]).toEqual(['find', 'find', 'insert']);
        expect(created[1]).toEqual(created[0]);
        expect(revokedAll[0]).toEqual(['find', 'find', 'update']);
        expect(revokedAll[1]).toEqual(revokedAll[0]);
        expect((await counted.get('req-count-l-19'))?.status).toBe('revoked');
      } finally {
        await monitored.close();
      }
    });
  });

  it('remembers an identity whose attribute names hold a dot or start with $ (a per-connector account), whole', async () => {
    const directory = new IdentityDirectory(connection);
    const pipeline = {
      kind: 'ci_pipeline' as const,
      identityId: 'ci-release-dotted',
      displayName: 'Release pipeline',
      status: 'active' as const,
      ownerId: 'olga',
      attributes: { 'account.kafka-acl': 'svc-release', account: 'release', $source: 'hr' },
    };

    await directory.remember(pipeline);

    expect(await directory.get(pipeline.identityId)).toEqual(pipeline);
    await directory.markOffboarded(pipeline.identityId);
    expect(await directory.get(pipeline.identityId)).toEqual({ ...pipeline, status: 'offboarded' });
  });
});
