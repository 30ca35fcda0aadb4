import { createConnection } from 'mongoose';
import type { Connection } from 'mongoose';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { AuditProjector } from '../projector/audit.projector';
import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import { grantAccessProjection } from '../projections/grant-access.projection';
import { grantExplanationProjection } from '../projections/grant-explanation.projection';
import { requestTimelineProjection } from '../projections/request-timeline.projection';
import { grantIdOfLifecycle, lifecycleEvents } from '../testing/lifecycle-events.fixture';
import type { PlacedEvent } from '../testing/lifecycle-events.fixture';
import { CHECKPOINT_COLLECTION, ForeignLogError, ReadModelStore } from './read-model.store';
import type { LogPosition } from './read-model.store';

/** Gives each event its place in a single-partition log per topic, as Kafka would. */
function positioned(events: readonly PlacedEvent[]): { placed: PlacedEvent; position: LogPosition }[] {
  const next = new Map<string, number>();
  return events.map((placed) => {
    const offset = next.get(placed.topic) ?? 0;
    next.set(placed.topic, offset + 1);
    return { placed, position: { topic: placed.topic, partition: 0, offset: String(offset) } };
  });
}

describe('ReadModelStore + AuditProjector against the real MongoDB-wire server', () => {
  const connections: Connection[] = [];

  async function freshStore(): Promise<{ connection: Connection; store: ReadModelStore; projector: AuditProjector }> {
    const connection = await createConnection(mongoDatabaseUrl(uniqueName('audit_store'))).asPromise();
    connections.push(connection);
    const store = new ReadModelStore(connection, AUDIT_PROJECTIONS);
    await store.ensureIndexes();
    return { connection, store, projector: new AuditProjector(store) };
  }

  afterAll(async () => {
    for (const connection of connections) {
      await connection.dropDatabase();
      await connection.close();
    }
  });

  const log = positioned([...lifecycleEvents({ requestId: 'req-a' }), ...lifecycleEvents({ requestId: 'req-b', subjectId: 'svc-b' })]);

  it('Given a database claimed by one log, When another cluster or namespace claims it, Then it is refused by name; the same log is welcome', async () => {
    const { connection, store } = await freshStore();
    // Two instances starting at once both claim; one record wins, both accept it.
    await Promise.all([store.claimLog({ clusterId: 'cluster-a', namespace: 'local' }), store.claimLog({ clusterId: 'cluster-a', namespace: 'local' })]);
    await store.claimLog({ clusterId: 'cluster-a', namespace: 'local' });
    await expect(store.claimLog({ clusterId: 'cluster-b', namespace: 'local' })).rejects.toThrow(ForeignLogError);
    await expect(store.claimLog({ clusterId: 'cluster-a' })).rejects.toThrow(
      /holds audit checkpoints of Kafka cluster cluster-a namespace local, but this service reads cluster cluster-a: set MONGO_DB/,
    );
    // A dropped database belongs to nobody: the next log claims it and replays into it.
    await connection.dropDatabase();
    await store.claimLog({ clusterId: 'cluster-b' });
  });

  it('Given a lifecycle projected into the store, Then each collection holds its read model and the checkpoints sit at the last offsets', async () => {
    const { store, projector } = await freshStore();
    for (const { placed, position } of log) await projector.project(placed.event, position);

    const timeline = await store.load(requestTimelineProjection, 'req-a');
    expect(timeline?.entries).toHaveLength(12);
    expect(timeline?.status).toBe('ended');
    expect(await store.find(grantAccessProjection, { subjectId: 'svc-b' })).toEqual([
      expect.objectContaining({ grantId: grantIdOfLifecycle({ requestId: 'req-b' }), status: 'revoked' }),
    ]);
    expect(await store.find(grantExplanationProjection, { grantIds: grantIdOfLifecycle({ requestId: 'req-a' }) })).toEqual([
      expect.objectContaining({ requestId: 'req-a', approvals: [expect.objectContaining({ approverId: 'bob' })] }),
    ]);
    expect(await store.checkpointOf(grantAccessProjection, 'iga.grants.v1', 0)).toBe(9);
    expect(await store.checkpointOf(requestTimelineProjection, 'iga.requests.v1', 0)).toBe(1);
  });

  it('Given a projected log, When every event is redelivered at its offset, Then each is skipped and nothing changes', async () => {
    const { store, projector } = await freshStore();
    for (const { placed, position } of log) await projector.project(placed.event, position);
    const before = await store.snapshot();

    const again = new AuditProjector(store);
    const outcomes = [];
    for (const { placed, position } of log) outcomes.push(await again.project(placed.event, position));

    expect(outcomes.every((outcome) => outcome.applied === 0 && outcome.skipped > 0)).toBe(true);
    expect(await store.snapshot()).toEqual(before);
  });

  it('Given a projected event, When the same event arrives again at a later offset, Then the documents do not change and the checkpoint moves on', async () => {
    const { store, projector } = await freshStore();
    for (const { placed, position } of log) await projector.project(placed.event, position);
    const before = await store.load(requestTimelineProjection, 'req-a');
    const duplicate = log[0]!.placed;

    const outcome = await projector.project(duplicate.event, { topic: duplicate.topic, partition: 0, offset: '100' });

    expect(outcome).toEqual({ applied: 0, skipped: 0 });
    expect(await store.load(requestTimelineProjection, 'req-a')).toEqual(before);
    expect(await store.checkpointOf(requestTimelineProjection, duplicate.topic, 0)).toBe(100);
  });

  it('Given two partitions writing one request document at the same time, When both land, Then neither write is lost', async () => {
    const { store, projector } = await freshStore();
    const events = lifecycleEvents({ requestId: 'req-c' });

    await Promise.all(events.map((placed, index) => projector.project(placed.event, { topic: `${placed.topic}.p${index}`, partition: index, offset: '0' })));

    expect((await store.load(requestTimelineProjection, 'req-c'))?.entries).toHaveLength(events.length);
  });

  it('Given two instances folding batches of one request into a fresh database at once, When both write, Then the loser re-reads and no event is lost', async () => {
    const { store } = await freshStore();
    const [first, second] = [new AuditProjector(store), new AuditProjector(store)];
    const events = lifecycleEvents({ requestId: 'req-d' });
    const half = Math.ceil(events.length / 2);
    const batchOf = (placed: readonly PlacedEvent[], partition: number) =>
      placed.map(({ topic, event }, index) => ({ event, position: { topic: `${topic}.d`, partition, offset: String(index) } }));
    // Both read "absent" before either writes: one insert wins, the other collides and is folded again.
    await Promise.all([first.fold(batchOf(events.slice(0, half), 0)), second.fold(batchOf(events.slice(half), 1))]);
    await Promise.all([first.flush(), second.flush()]);
    // Now both hold a stale revision of it: another round, each replacing at the revision it read. The second writes
    // after the first, so its replacement is refused and it must read again. (One after the other, not at once: FerretDB
    // v1 does not make a conditional replace atomic against a truly concurrent one; MongoDB does, and in production
    // only one audit instance is active anyway, ADR 0012.)
    const later = lifecycleEvents({ requestId: 'req-d', start: '2025-04-01T09:00:00.000Z' });
    const more = later.map(({ topic, event }) => ({ topic, event: { ...event, id: `${event.id}-again` } }));
    await first.projectBatch(batchOf(more.slice(0, half), 2));
    await second.projectBatch(batchOf(more.slice(half), 3));

    const timeline = await store.load(requestTimelineProjection, 'req-d');
    expect(timeline?.entries).toHaveLength(2 * events.length);
    expect((await store.snapshot())['request_timeline_v1']).toEqual([expect.objectContaining({ _id: 'req-d', _rev: 2 * events.length })]);
  });

  it('Given checkpoints saved in one round trip, When one of them is behind the stored one, Then the others move on and none moves back', async () => {
    const { store } = await freshStore();
    await store.saveCheckpoint(grantAccessProjection, { topic: 't', partition: 0, offset: '7' });
    await store.saveCheckpoints([
      { projection: grantAccessProjection, topic: 't', partition: 0, offset: 3 },
      { projection: grantAccessProjection, topic: 't', partition: 1, offset: 5 },
      { projection: requestTimelineProjection, topic: 't', partition: 0, offset: 9 },
    ]);

    expect(await store.checkpointOf(grantAccessProjection, 't', 0)).toBe(7);
    expect(await store.checkpointOf(grantAccessProjection, 't', 1)).toBe(5);
    expect(await store.checkpointOf(requestTimelineProjection, 't', 0)).toBe(9);
  });

  it('Given a checkpoint, When an older offset is saved, Then the checkpoint never moves back', async () => {
    const { store } = await freshStore();
    await store.saveCheckpoint(grantAccessProjection, { topic: 't', partition: 0, offset: '7' });
    await store.saveCheckpoint(grantAccessProjection, { topic: 't', partition: 0, offset: '3' });

    expect(await store.checkpointOf(grantAccessProjection, 't', 0)).toBe(7);
  });

  it('Given a projected database, When it is dropped and the log replayed in another topic order, Then the rebuilt read models equal the original', async () => {
    const { connection, store, projector } = await freshStore();
    for (const { placed, position } of log) await projector.project(placed.event, position);
    const original = await store.snapshot();
    expect(original[CHECKPOINT_COLLECTION]?.length).toBeGreaterThan(0);

    await connection.dropDatabase();
    const rebuiltProjector = new AuditProjector(store);
    const byTopicReversed = [...log].sort((a, b) => (a.placed.topic < b.placed.topic ? 1 : a.placed.topic > b.placed.topic ? -1 : 0));
    for (const { placed, position } of byTopicReversed) await rebuiltProjector.project(placed.event, position);

    expect(await store.snapshot()).toEqual(original);
  });
});
