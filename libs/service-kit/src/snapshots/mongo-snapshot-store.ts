import { mongo } from 'mongoose';
import type { Connection } from 'mongoose';
import type { SnapshotManifest, SnapshotStore } from '@grantline/messaging';

/** The collections of the service's own database that hold its snapshots: manifests, and their chunks. */
export const SNAPSHOT_COLLECTION = 'state_snapshots';
export const SNAPSHOT_CHUNK_COLLECTION = 'state_snapshot_chunks';

/** Positions as a list: topic names hold dots, which a document's field names may not (FerretDB refuses them). */
interface ManifestDocument extends Omit<SnapshotManifest, 'snapshotId' | 'positions'> {
  readonly _id: string;
  readonly positions: readonly { readonly topic: string; readonly partition: number; readonly offset: string }[];
}

interface ChunkDocument {
  readonly _id: string;
  readonly snapshotId: string;
  readonly state: string;
  readonly index: number;
  readonly data: mongo.Binary;
}

/**
 * Snapshots in the service's own MongoDB database (ADR 0037). Chunks first, the manifest last: a write cut short
 * leaves chunks no manifest names, which the next write removes, and never a manifest without its chunks. Only the
 * newest snapshot of a state is kept. Chunks are read by `_id`, one at a time: a seek on MongoDB, and on FerretDB
 * (which scans) a scan of a collection that holds one or two snapshots.
 */
export class MongoSnapshotStore implements SnapshotStore {
  constructor(private readonly connection: Connection) {}

  async latest(state: string): Promise<SnapshotManifest | undefined> {
    const found = await (await this.manifests()).find({ state }).sort({ takenAt: -1 }).limit(1).toArray();
    const document = found[0];
    if (document === undefined) return undefined;
    const { _id, positions, ...manifest } = document;
    const byTopic: Record<string, Record<number, string>> = {};
    for (const { topic, partition, offset } of positions) (byTopic[topic] ??= {})[partition] = offset;
    return { snapshotId: _id, ...manifest, positions: byTopic };
  }

  async read(manifest: SnapshotManifest): Promise<readonly Uint8Array[]> {
    const chunks = await this.chunks();
    const read: Uint8Array[] = [];
    for (let index = 0; index < manifest.chunks; index += 1) {
      const chunk = await chunks.findOne({ _id: chunkId(manifest.snapshotId, index) });
      if (chunk === null) break;
      read.push(chunk.data.buffer.subarray(0, chunk.data.position));
    }
    return read;
  }

  async write(manifest: SnapshotManifest, chunks: readonly Uint8Array[]): Promise<void> {
    const { snapshotId, positions, ...rest } = manifest;
    const chunkCollection = await this.chunks();
    // One chunk per insert: a batch of several 4 MiB chunks would pass the 48 MB message limit.
    for (const [index, data] of chunks.entries()) {
      await chunkCollection.insertOne({ _id: chunkId(snapshotId, index), snapshotId, state: manifest.state, index, data: new mongo.Binary(data) });
    }
    const manifests = await this.manifests();
    const listed = Object.entries(positions).flatMap(([topic, partitions]) =>
      Object.entries(partitions).map(([partition, offset]) => ({ topic, partition: Number(partition), offset })),
    );
    await manifests.insertOne({ _id: snapshotId, ...rest, positions: listed });
    // Older snapshots of the state, and chunks of writes that never got their manifest.
    await manifests.deleteMany({ state: manifest.state, _id: { $ne: snapshotId } });
    await chunkCollection.deleteMany({ state: manifest.state, snapshotId: { $ne: snapshotId } });
  }

  private async manifests(): Promise<mongo.Collection<ManifestDocument>> {
    return (await this.db()).collection<ManifestDocument>(SNAPSHOT_COLLECTION);
  }

  private async chunks(): Promise<mongo.Collection<ChunkDocument>> {
    return (await this.db()).collection<ChunkDocument>(SNAPSHOT_CHUNK_COLLECTION);
  }

  private async db(): Promise<mongo.Db> {
    await this.connection.asPromise();
    const db = this.connection.db;
    if (db === undefined) throw new Error('the MongoDB connection has no database');
    return db;
  }
}

function chunkId(snapshotId: string, index: number): string {
  return `${snapshotId}:${index}`;
}
