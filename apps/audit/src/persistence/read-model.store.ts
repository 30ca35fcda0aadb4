import { Schema } from 'mongoose';
import type { Connection, Model, mongo } from 'mongoose';
import { collectionOf } from '../projections/projection';
import type { Projection, ProjectionDocument } from '../projections/projection';

/** Where an event sits in the log: the unit a checkpoint is kept for. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export const CHECKPOINT_COLLECTION = 'audit_checkpoints';

interface StoredDocument {
  _id: string;
  /**
   * Optimistic concurrency: two writers may update one request's document at once. Counts the events that changed the
   * document, so a rebuild stores the same revision as the live run did.
   */
  _rev: number;
  [field: string]: unknown;
}

interface StoredCheckpoint {
  _id: string;
  projection: string;
  version: number;
  topic: string;
  partition: number;
  /** The last offset whose effects are stored; everything at or below it is skipped on redelivery. */
  offset: number;
}

/** A document as stored, with the revision a write must find to replace it. */
export interface StoredVersion<TDoc> {
  readonly doc: TDoc;
  readonly rev: number;
}

/**
 * A document to write: inserted when `rev` is 0 (not stored yet), else replaced if the stored revision is still `rev`.
 * The revision counts the events that changed the document, so it is the same however they were batched.
 */
export interface DocumentWrite<TDoc> {
  readonly doc: TDoc;
  readonly rev: number;
  /** Events that changed it since `rev`: the written revision is `rev + changes`. */
  readonly changes: number;
}

/** A checkpoint to move forward: the last offset of a partition whose effects on a projection are stored. */
export interface CheckpointWrite {
  readonly projection: Pick<Projection, 'name' | 'version'>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const DUPLICATE_KEY = 11000;
/** Documents per insertMany call when a rebuild writes thousands at once. */
const INSERT_SLICE = 1_000;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/** A bulk write refused only for duplicate keys (the driver's MongoBulkWriteError lists each refused operation). */
function onlyDuplicateKeys(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const listed = Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors];
  return listed.length > 0 ? listed.every(isDuplicateKey) : isDuplicateKey(error);
}

export function checkpointIdOf(projection: Pick<Projection, 'name' | 'version'>, topic: string, partition: number): string {
  return `${collectionOf(projection)}|${topic}|${partition}`;
}

/** Kafka offsets are int64 strings; any real log stays far below 2^53, and a number compares and sorts in queries. */
export function offsetNumber(offset: string): number {
  const value = Number(offset);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Unsupported Kafka offset: ${offset}`);
  return value;
}

/** Indexes a query needs, per projection; everything else is looked up by `_id`. */
const INDEXES: Record<string, readonly (string | Readonly<Record<string, 1 | -1>>)[]> = {
  grant_access: ['subjectId', 'entitlementId'],
  grant_explanation: ['grantIds'],
  // a connector's reconciliations, newest first
  reconciliations: [{ connectorId: 1, observedAt: -1 }],
  // the refusals, newest first: all of them, one principal's, or one service's
  access_denials: [
    { at: -1, _id: -1 },
    { principalId: 1, at: -1 },
    { service: 1, at: -1 },
  ],
};

/** Equality on a field (membership for an array field), or one of several values. */
export type ReadModelFilter = Readonly<Record<string, string | boolean | { $in: readonly string[] }>>;

export interface FindOptions {
  /** By `_id` when absent. */
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  readonly limit?: number;
}

/** The collection that names the one log this database's checkpoints belong to. */
export const LOG_IDENTITY_COLLECTION = 'audit_log_identity';

interface StoredLogIdentity {
  _id: 'log';
  clusterId: string;
  namespace: string | null;
  claimedAt: string;
}

/**
 * The database holds checkpoints of another log (another cluster, a re-created cluster, another namespace):
 * resuming from them would skip that log's events. Retrying does not heal it (the catch-up keeps the service not
 * ready, naming both logs); an operator points the service at its own database, or drops this one to rebuild it.
 */
export class ForeignLogError extends Error {
  constructor(
    readonly recorded: { clusterId: string; namespace: string | null },
    readonly current: { clusterId: string; namespace: string | null },
    database: string,
  ) {
    super(
      `database ${database} holds audit checkpoints of Kafka cluster ${recorded.clusterId}${recorded.namespace === null ? '' : ` namespace ${recorded.namespace}`}, ` +
        `but this service reads cluster ${current.clusterId}${current.namespace === null ? '' : ` namespace ${current.namespace}`}: ` +
        'set MONGO_DB to a database of its own, or drop this one to rebuild it from the log',
    );
    this.name = 'ForeignLogError';
  }
}

/**
 * The audit read models in MongoDB (FerretDB-compatible: no transactions, no change streams, no $lookup). One
 * versioned collection per projection, checkpoints in `audit_checkpoints` of the same database, so dropping the
 * database drops both and a replay rebuilds both. Documents are read and written many at a time (the projector
 * folds a batch in memory); every write is conditional on the revision it was computed from.
 */
export class ReadModelStore {
  private readonly models = new Map<string, Model<StoredDocument>>();
  private readonly checkpoints: Model<StoredCheckpoint>;
  private readonly logIdentity: Model<StoredLogIdentity>;

  constructor(
    private readonly connection: Connection,
    readonly projections: readonly Projection[],
  ) {
    for (const projection of projections) {
      const name = collectionOf(projection);
      const schema = new Schema<StoredDocument>({ _id: String, _rev: Number }, { strict: false, versionKey: false, collection: name, autoIndex: false });
      for (const index of INDEXES[projection.name] ?? []) schema.index(typeof index === 'string' ? { [index]: 1 } : index);
      this.models.set(name, this.modelOf(name, schema));
    }
    const checkpointSchema = new Schema<StoredCheckpoint>(
      { _id: String, projection: String, version: Number, topic: String, partition: Number, offset: Number },
      { versionKey: false, collection: CHECKPOINT_COLLECTION, autoIndex: false },
    );
    checkpointSchema.index({ projection: 1, version: 1 });
    this.checkpoints = this.modelOf(CHECKPOINT_COLLECTION, checkpointSchema);
    this.logIdentity = this.modelOf(
      LOG_IDENTITY_COLLECTION,
      new Schema<StoredLogIdentity>(
        { _id: String, clusterId: String, namespace: { type: String, default: null }, claimedAt: String },
        { versionKey: false, collection: LOG_IDENTITY_COLLECTION },
      ),
    );
  }

  /**
   * Ties this database to one log: the first start records the cluster and namespace, later starts must match.
   * Throws ForeignLogError otherwise.
   */
  async claimLog(identity: { clusterId: string; namespace?: string }): Promise<void> {
    const current = { clusterId: identity.clusterId, namespace: identity.namespace ?? null };
    const recorded = await this.logIdentity.findById('log').lean<StoredLogIdentity>().exec();
    if (recorded === null) {
      try {
        await this.logIdentity.create({ _id: 'log', ...current, claimedAt: new Date().toISOString() });
        return;
      } catch (error) {
        // Two instances claiming at once: the loser checks the winner's record below.
        if ((error as { code?: unknown }).code !== 11000) throw error;
        return this.claimLog(identity);
      }
    }
    if (recorded.clusterId !== current.clusterId || (recorded.namespace ?? null) !== current.namespace) {
      throw new ForeignLogError({ clusterId: recorded.clusterId, namespace: recorded.namespace ?? null }, current, this.connection.name);
    }
  }

  private modelOf<T>(name: string, schema: Schema<T>): Model<T> {
    return (this.connection.models[name] as Model<T> | undefined) ?? this.connection.model<T>(name, schema, name);
  }

  private modelFor(projection: Pick<Projection, 'name' | 'version'>): Model<StoredDocument> {
    const model = this.models.get(collectionOf(projection));
    if (model === undefined) throw new Error(`No collection for projection ${collectionOf(projection)}`);
    return model;
  }

  async ensureIndexes(): Promise<void> {
    for (const model of [...this.models.values(), this.checkpoints]) await model.createIndexes();
  }

  async checkpointOf(projection: Projection, topic: string, partition: number): Promise<number | undefined> {
    const stored = await this.checkpoints
      .findById(checkpointIdOf(projection, topic, partition))
      .lean<StoredCheckpoint>()
      .exec();
    return stored?.offset;
  }

  /** The stored checkpoints among `ids` (checkpointIdOf), with one query; an id without one is absent. */
  async checkpointsOf(ids: readonly string[]): Promise<Map<string, number>> {
    const stored = await this.checkpoints
      .find({ _id: { $in: [...ids] } })
      .lean<StoredCheckpoint[]>()
      .exec();
    return new Map(stored.map((checkpoint) => [checkpoint._id, checkpoint.offset]));
  }

  /** Moves the checkpoint forward only: a late or concurrent writer can never move it back. */
  async saveCheckpoint(projection: Projection, position: LogPosition): Promise<void> {
    await this.saveOne({ projection, topic: position.topic, partition: position.partition, offset: offsetNumber(position.offset) });
  }

  /** Moves several checkpoints forward in one round trip (never back, as saveCheckpoint). */
  async saveCheckpoints(writes: readonly CheckpointWrite[]): Promise<void> {
    if (writes.length === 0) return;
    try {
      await native(this.checkpoints).bulkWrite(writes.map(forwardOnly), { ordered: false });
    } catch (error) {
      if (!onlyDuplicateKeys(error)) throw error;
      // A checkpoint was further already (another writer). FerretDB ends an unordered bulk at its first error, so
      // the others are not known to be written: each goes again on its own.
      for (const write of writes) await this.saveOne(write);
    }
  }

  private async saveOne(write: CheckpointWrite): Promise<void> {
    try {
      await native(this.checkpoints).bulkWrite([forwardOnly(write)]);
    } catch (error) {
      // The filter missed because a checkpoint at or beyond this offset exists; the upsert then collides on _id.
      if (!onlyDuplicateKeys(error)) throw error;
    }
  }

  /** Whether this projection has ever stored a checkpoint (a fresh or dropped database has none). */
  async hasCheckpoints(projection: Projection): Promise<boolean> {
    return (await this.checkpoints.exists({ projection: projection.name, version: projection.version }).exec()) !== null;
  }

  async load<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, id: string): Promise<TDoc | undefined> {
    const stored = await this.modelFor(projection).findById(id).lean<StoredDocument>().exec();
    return stored === null ? undefined : withoutRevision<TDoc>(stored);
  }

  async find<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, filter: ReadModelFilter, options: FindOptions = {}): Promise<TDoc[]> {
    const query = this.modelFor(projection)
      .find(filter)
      .sort(options.sort ?? { _id: 1 });
    if (options.limit !== undefined) query.limit(options.limit);
    const stored = await query.lean<StoredDocument[]>().exec();
    return stored.map((doc) => withoutRevision<TDoc>(doc));
  }

  /** The stored documents among `ids`, with their revisions, in one query; an id without a document is absent. */
  async loadMany<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, ids: readonly string[]): Promise<Map<string, StoredVersion<TDoc>>> {
    const stored = await this.modelFor(projection)
      .find({ _id: { $in: [...ids] } })
      .lean<StoredDocument[]>()
      .exec();
    return new Map(stored.map((doc) => [doc._id, { doc: withoutRevision<TDoc>(doc), rev: doc._rev }]));
  }

  /** Whether the collection holds no document at all (a fresh or dropped database, a new projection version). */
  async isEmpty(projection: Projection): Promise<boolean> {
    return (await this.modelFor(projection).findOne({}, { _id: 1 }).lean().exec()) === null;
  }

  /**
   * Inserts the new documents in one round trip and replaces the others in another, each replacement only where the
   * stored revision is still the one it was computed from. Returns the ids whose write may not have landed (a
   * document inserted or replaced by someone else meanwhile): the caller reads those again and recomputes them.
   */
  async writeDocuments<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, writes: readonly DocumentWrite<TDoc>[]): Promise<string[]> {
    const collection = native(this.modelFor(projection));
    const inserts = writes.filter((write) => write.rev === 0);
    const replaces = writes.filter((write) => write.rev > 0);
    const suspects: string[] = [];
    // In slices, so the documents of the next are encoded here while the store writes the last.
    for (let start = 0; start < inserts.length; start += INSERT_SLICE) {
      const slice = inserts.slice(start, start + INSERT_SLICE);
      try {
        await collection.insertMany(
          slice.map((write) => ({ ...toStorable(write.doc), _rev: write.changes })),
          { ordered: false },
        );
      } catch (error) {
        if (!onlyDuplicateKeys(error)) throw error;
        suspects.push(...slice.map((write) => write.doc._id));
      }
    }
    if (replaces.length > 0) {
      const result = await collection.bulkWrite(
        replaces.map(({ doc, rev, changes }) => ({
          replaceOne: { filter: { _id: doc._id, _rev: rev }, replacement: { ...toStorable(doc), _rev: rev + changes } },
        })),
        { ordered: false },
      );
      // The result does not say which missed: every one is checked again.
      if (result.matchedCount < replaces.length) suspects.push(...replaces.map((write) => write.doc._id));
    }
    return suspects;
  }

  /** Every document of every collection, sorted: what "the rebuild equals the original" compares. */
  async snapshot(): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {};
    for (const [name, model] of this.models) result[name] = await model.find().sort({ _id: 1 }).lean().exec();
    result[CHECKPOINT_COLLECTION] = await this.checkpoints.find().sort({ _id: 1 }).lean().exec();
    return result;
  }
}

function withoutRevision<TDoc>(stored: StoredDocument): TDoc {
  const { _rev: _revision, ...doc } = stored;
  return doc as unknown as TDoc;
}

/** Projection documents are plain JSON already; this only drops undefined fields the driver would store as null. */
function toStorable(doc: ProjectionDocument): Record<string, unknown> & { _id: string } {
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown> & { _id: string };
}

function forwardOnly({ projection, topic, partition, offset }: CheckpointWrite): mongo.AnyBulkWriteOperation<StoredCheckpoint> {
  return {
    updateOne: {
      filter: { _id: checkpointIdOf(projection, topic, partition), offset: { $lt: offset } },
      update: { $set: { projection: projection.name, version: projection.version, topic, partition, offset } },
      upsert: true,
    },
  };
}

/** The driver's collection under a model, typed with the string ids these collections use (mongoose assumes ObjectId). */
function native<T extends { _id: string }>(model: Model<T>): mongo.Collection<T> {
  return model.collection as unknown as mongo.Collection<T>;
}
