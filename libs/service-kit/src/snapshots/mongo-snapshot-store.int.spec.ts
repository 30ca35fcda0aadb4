import { randomBytes } from 'node:crypto';
import { createConnection } from 'mongoose';
import type { Connection } from 'mongoose';
import { packSnapshot, snapshotManifest, unpackSnapshot } from '@grantline/messaging';
import type { SnapshotManifest } from '@grantline/messaging';
import { MongoSnapshotStore, SNAPSHOT_CHUNK_COLLECTION, SNAPSHOT_COLLECTION } from './mongo-snapshot-store';

function mongoUrl(): string {
  const url = process.env['MONGO_URL'];
  if (!url) throw new Error('MONGO_URL must be set: run integration specs through `npm test` (jest global setup)');
  return url;
}

async function snapshotOf(state: string, frames: Buffer[], events: number): Promise<{ manifest: SnapshotManifest; chunks: Uint8Array[] }> {
  // Small chunks, so the spec stores several per snapshot without megabytes of data; a topic name with dots, as they all are.
  const packed = await packSnapshot(frames, 4096);
  const manifest = snapshotManifest(
    { state, version: 'spec/1', log: { clusterId: 'c' }, topics: ['iga.grants.v1'], positions: { 'iga.grants.v1': { 0: String(events), 2: '7' } }, events },
    packed,
  );
  return { manifest, chunks: packed.chunks };
}

describe('MongoSnapshotStore on the MongoDB-wire store', () => {
  let connection: Connection;
  let store: MongoSnapshotStore;

  beforeAll(async () => {
    connection = await createConnection(mongoUrl(), { dbName: `snapshots_${randomBytes(4).toString('hex')}` }).asPromise();
    store = new MongoSnapshotStore(connection);
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('given no snapshot, when asked for the newest, then there is none', async () => {
    expect(await store.latest('nothing-yet')).toBeUndefined();
  });

  it('given a snapshot of several chunks written, when read back, then its frames come back intact', async () => {
    const frames = [randomBytes(20_000), Buffer.from('tail frame')];
    const { manifest, chunks } = await snapshotOf('round-trip', frames, 10);
    expect(chunks.length).toBeGreaterThan(2);

    await store.write(manifest, chunks);

    const latest = (await store.latest('round-trip')) as SnapshotManifest;
    expect(latest).toEqual(manifest);
    const back = await unpackSnapshot(latest, await store.read(latest));
    expect(back.map((frame) => Buffer.from(frame))).toEqual(frames);
  });

  it('given a newer snapshot written, when asked, then only the newer one is kept, its chunks alone', async () => {
    const older = await snapshotOf('replaced', [randomBytes(10_000)], 10);
    await store.write(older.manifest, older.chunks);
    const newer = await snapshotOf('replaced', [randomBytes(10_000)], 20);

    await store.write(newer.manifest, newer.chunks);

    expect(await store.latest('replaced')).toEqual(newer.manifest);
    const db = connection.db;
    expect(await db?.collection(SNAPSHOT_COLLECTION).countDocuments({ state: 'replaced' })).toBe(1);
    expect(await db?.collection(SNAPSHOT_CHUNK_COLLECTION).countDocuments({ state: 'replaced' })).toBe(newer.chunks.length);
  });

  it('given a write cut short after its chunks, when the next snapshot is written, then the orphan chunks are gone and the newest complete one is served', async () => {
    const complete = await snapshotOf('cut-short', [randomBytes(10_000)], 10);
    await store.write(complete.manifest, complete.chunks);
    const cut = await snapshotOf('cut-short', [randomBytes(10_000)], 20);
    const chunkCollection = connection.db?.collection(SNAPSHOT_CHUNK_COLLECTION);
    await chunkCollection?.insertOne({
      _id: `${cut.manifest.snapshotId}:0` as never,
      snapshotId: cut.manifest.snapshotId,
      state: 'cut-short',
      index: 0,
      data: Buffer.from(cut.chunks[0] as Uint8Array),
    });

    expect(await store.latest('cut-short')).toEqual(complete.manifest);
    const next = await snapshotOf('cut-short', [randomBytes(10_000)], 30);
    await store.write(next.manifest, next.chunks);

    expect(await chunkCollection?.countDocuments({ snapshotId: cut.manifest.snapshotId })).toBe(0);
    expect(await store.latest('cut-short')).toEqual(next.manifest);
  });
});
