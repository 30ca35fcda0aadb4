import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import { collectionOf } from '../projections/projection';
import type { AuditEvent, Projection, ProjectionDocument } from '../projections/projection';
import { requestTimelineProjection } from '../projections/request-timeline.projection';
import { checkpointIdOf } from '../persistence/read-model.store';
import type { CheckpointWrite, DocumentWrite, ReadModelStore, StoredVersion } from '../persistence/read-model.store';
import { projectInMemory } from '../testing/in-memory-projection';
import { lifecycleEvents } from '../testing/lifecycle-events.fixture';
import type { PlacedEvent } from '../testing/lifecycle-events.fixture';
import { AuditProjector } from './audit.projector';
import type { PositionedEvent } from './audit.projector';

type Stored = { doc: ProjectionDocument; rev: number };

/**
 * The store's batch operations over maps, with MongoDB's semantics for them (a duplicate _id is refused, a
 * replacement lands only at the revision it names), counting round trips, and failing on demand.
 */
class FakeStore {
  readonly projections = AUDIT_PROJECTIONS;
  readonly collections = new Map<string, Map<string, Stored>>(AUDIT_PROJECTIONS.map((p) => [collectionOf(p), new Map()]));
  readonly checkpoints = new Map<string, number>();
  readonly calls: string[] = [];
  /** The next document write stores everything, then fails as a lost acknowledgement would. */
  loseNextAck = false;
  /** Runs once just before the next write to that projection's collection (another writer getting there first). */
  beforeNextWrite: { readonly projection: string; readonly run: () => void } | undefined;

  private collection(projection: Pick<Projection, 'name' | 'version'>): Map<string, Stored> {
    return this.collections.get(collectionOf(projection))!;
  }

  async isEmpty(projection: Projection): Promise<boolean> {
    this.calls.push(`isEmpty ${projection.name}`);
    return this.collection(projection).size === 0;
  }

  async loadMany(projection: Projection, ids: readonly string[]): Promise<Map<string, StoredVersion<ProjectionDocument>>> {
    this.calls.push(`read ${projection.name} ${ids.length}`);
    const found = new Map<string, StoredVersion<ProjectionDocument>>();
    for (const id of ids) {
      const stored = this.collection(projection).get(id);
      if (stored) found.set(id, stored);
    }
    return found;
  }

  async writeDocuments(projection: Projection, writes: readonly DocumentWrite<ProjectionDocument>[]): Promise<string[]> {
    this.calls.push(`write ${projection.name} ${writes.length}`);
    if (this.beforeNextWrite?.projection === projection.name) {
      const { run } = this.beforeNextWrite;
      this.beforeNextWrite = undefined;
      run();
    }
    const collection = this.collection(projection);
    const suspects: string[] = [];
    for (const { doc, rev, changes } of writes) {
      const stored = collection.get(doc._id);
      if ((stored?.rev ?? 0) !== rev) suspects.push(doc._id);
      else collection.set(doc._id, { doc, rev: rev + changes });
    }
    if (this.loseNextAck) {
      this.loseNextAck = false;
      throw new Error('MongoNetworkError: connection reset');
    }
    return suspects;
  }

  async checkpointsOf(ids: readonly string[]): Promise<Map<string, number>> {
    this.calls.push(`read checkpoints ${ids.length}`);
    return new Map(ids.flatMap((id) => (this.checkpoints.has(id) ? [[id, this.checkpoints.get(id)!] as const] : [])));
  }

  async saveCheckpoints(writes: readonly CheckpointWrite[]): Promise<void> {
    this.calls.push(`write checkpoints ${writes.length}`);
    for (const { projection, topic, partition, offset } of writes) {
      const id = checkpointIdOf(projection, topic, partition);
      this.checkpoints.set(id, Math.max(this.checkpoints.get(id) ?? -1, offset));
    }
  }

  documents(projection: Projection): ProjectionDocument[] {
    return [...this.collection(projection).values()].map(({ doc }) => doc).sort((a, b) => (a._id < b._id ? -1 : 1));
  }

  revisionOf(projection: Projection, id: string): number | undefined {
    return this.collection(projection).get(id)?.rev;
  }
}

/** Each topic a single partition, offsets in publication order. */
function positioned(placed: readonly PlacedEvent[]): PositionedEvent[] {
  const next = new Map<string, number>();
  return placed.map(({ topic, event }) => {
    const offset = next.get(topic) ?? 0;
    next.set(topic, offset + 1);
    return { event, position: { topic, partition: 0, offset: String(offset) } };
  });
}

/** What the consumer hands over: one partition's events at a time. */
function byPartition(events: readonly PositionedEvent[]): PositionedEvent[][] {
  const batches = new Map<string, PositionedEvent[]>();
  for (const event of events) {
    const batch = batches.get(event.position.topic) ?? [];
    batch.push(event);
    batches.set(event.position.topic, batch);
  }
  return [...batches.values()];
}

function setup(options: { maxDocumentsInMemory?: number } = {}) {
  const fake = new FakeStore();
  const store = fake as unknown as ReadModelStore;
  const log = positioned([...lifecycleEvents({ requestId: 'req-a' }), ...lifecycleEvents({ requestId: 'req-b', subjectId: 'svc-b' })]);
  const events = log.map(({ event }) => event as AuditEvent);
  const expected = (projection: Projection): ProjectionDocument[] => [...projectInMemory(projection, events).values()].sort((a, b) => (a._id < b._id ? -1 : 1));
  return { fake, store, log, batches: byPartition(log), expected, projector: new AuditProjector(store, options) };
}

describe('AuditProjector on batches', () => {
  it('given partition batches into a fresh database, then nothing is read, each collection is written once per batch and the checkpoints after it', async () => {
    const { fake, projector, batches, expected } = setup();

    for (const batch of batches) {
      fake.calls.length = 0;
      await projector.projectBatch(batch);
      const writes = fake.calls.filter((call) => call.startsWith('write '));
      expect(fake.calls.filter((call) => call.startsWith('read ') && !call.startsWith('read checkpoints'))).toEqual([]);
      expect(new Set(writes).size).toBe(writes.length);
      expect(fake.calls.at(-1)).toMatch(/^write checkpoints/);
    }

    for (const projection of AUDIT_PROJECTIONS) expect(fake.documents(projection)).toEqual(expected(projection));
    const grants = batches.find((batch) => batch[0]!.position.topic === 'iga.grants.v1')!;
    expect(fake.checkpoints.get(checkpointIdOf(requestTimelineProjection, 'iga.grants.v1', 0))).toBe(grants.length - 1);
    // the revision counts the events that changed the document, however they were batched
    const timelineEvents = expected(requestTimelineProjection).find((doc) => doc._id === 'req-a')!.appliedEventIds.length;
    expect(fake.revisionOf(requestTimelineProjection, 'req-a')).toBe(timelineEvents);
  });

  it('given a batch redelivered after its documents were written but not its checkpoints, then nothing changes and the checkpoints move on', async () => {
    const { fake, store, projector, batches } = setup();
    for (const batch of batches) await projector.fold(batch);
    await projector.flushIfFull();
    await projector.flush();
    const before = AUDIT_PROJECTIONS.map((projection) => fake.documents(projection));
    fake.checkpoints.clear();

    const again = new AuditProjector(store);
    const outcomes = [];
    for (const batch of batches) outcomes.push(await again.projectBatch(batch));

    expect(outcomes.every((outcome) => outcome.applied === 0)).toBe(true);
    expect(AUDIT_PROJECTIONS.map((projection) => fake.documents(projection))).toEqual(before);
    expect(fake.checkpoints.size).toBeGreaterThan(0);
  });

  it('given a write whose acknowledgement is lost, when the batch is retried, then the documents equal the fold and each event counts once', async () => {
    const { fake, projector, batches, expected } = setup();
    fake.loseNextAck = true;

    await expect(projector.projectBatch(batches[0]!)).rejects.toThrow(/connection reset/);
    expect(fake.checkpoints.size).toBe(0);
    await projector.projectBatch(batches[0]!);
    for (const batch of batches.slice(1)) await projector.projectBatch(batch);

    for (const projection of AUDIT_PROJECTIONS) expect(fake.documents(projection)).toEqual(expected(projection));
    const timelineEvents = expected(requestTimelineProjection).find((doc) => doc._id === 'req-a')!.appliedEventIds.length;
    expect(fake.revisionOf(requestTimelineProjection, 'req-a')).toBe(timelineEvents);
  });

  it('given another writer that changed a document since it was read, then the batch is folded again onto that version and neither change is lost', async () => {
    const { fake, projector, log } = setup();
    const [first, second] = [log.slice(0, 1), log.slice(1, 2)];
    await projector.projectBatch(first);
    await projector.fold(second);
    // the other instance writes req-a's timeline between this one's read and its write
    const timelines = fake.collections.get(collectionOf(requestTimelineProjection))!;
    fake.beforeNextWrite = {
      projection: requestTimelineProjection.name,
      run: () => {
        const stored = timelines.get('req-a')!;
        timelines.set('req-a', { doc: requestTimelineProjection.apply(stored.doc as never, log[2]!.event as AuditEvent, 'req-a'), rev: stored.rev + 1 });
      },
    };
    await projector.flush();

    const timeline = fake.documents(requestTimelineProjection).find((doc) => doc._id === 'req-a')!;
    expect(timeline.appliedEventIds).toEqual([log[0]!.event.id, log[1]!.event.id, log[2]!.event.id].sort());
    expect(fake.revisionOf(requestTimelineProjection, 'req-a')).toBe(3);
    expect(fake.calls).toContain('read request_timeline 1');
  });

  it('given a rebuild larger than memory, then documents are written as memory fills, and checkpoints only once everything is written', async () => {
    const { fake, projector, batches, expected } = setup({ maxDocumentsInMemory: 1 });

    for (const batch of batches) {
      await projector.fold(batch);
      await projector.flushIfFull();
      expect(fake.checkpoints.size).toBe(0);
    }
    expect(fake.calls.some((call) => call.startsWith('write '))).toBe(true);
    await projector.flush();

    for (const projection of AUDIT_PROJECTIONS) expect(fake.documents(projection)).toEqual(expected(projection));
    expect(fake.checkpoints.size).toBeGreaterThan(0);
    expect(fake.calls.at(-1)).toMatch(/^write checkpoints/);
  });
});
