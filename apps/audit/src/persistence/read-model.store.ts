import { Schema } from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { collectionOf } from '../projections/projection';
import type { AuditEvent, Projection, ProjectionDocument } from '../projections/projection';
import { KeyedMutex } from '@grantline/service-kit';

/** Where an event sits in the log: the unit a checkpoint is kept for. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export const CHECKPOINT_COLLECTION = 'audit_checkpoints';

interface StoredDocument {
  _id: string;
  /** Optimistic concurrency: two partitions (say requests and grants) may update one request's document at once. */
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

const DUPLICATE_KEY = 11000;
const MAX_WRITE_ATTEMPTS = 20;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
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
  access_denials: [{ at: -1, _id: -1 }, { principalId: 1, at: -1 }, { service: 1, at: -1 }],
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
 * The audit read models in MongoDB (FerretDB-compatible: single-document writes, no transactions, no change
 * streams, no $lookup). One versioned collection per projection, checkpoints in `audit_checkpoints` of the
 * same database, so dropping the database drops both and a replay rebuilds both.
 */
export class ReadModelStore {
  private readonly models = new Map<string, Model<StoredDocument>>();
  private readonly checkpoints: Model<StoredCheckpoint>;
  private readonly logIdentity: Model<StoredLogIdentity>;
  private readonly writes = new KeyedMutex();

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
      new Schema<StoredLogIdentity>({ _id: String, clusterId: String, namespace: { type: String, default: null }, claimedAt: String }, { versionKey: false, collection: LOG_IDENTITY_COLLECTION }),
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
    const stored = await this.checkpoints.findById(checkpointIdOf(projection, topic, partition)).lean<StoredCheckpoint>().exec();
    return stored?.offset;
  }

  /** Moves the checkpoint forward only: a late or concurrent writer can never move it back. */
  async saveCheckpoint(projection: Projection, position: LogPosition): Promise<void> {
    const offset = offsetNumber(position.offset);
    const _id = checkpointIdOf(projection, position.topic, position.partition);
    try {
      await this.checkpoints
        .updateOne(
          { _id, offset: { $lt: offset } },
          { $set: { projection: projection.name, version: projection.version, topic: position.topic, partition: position.partition, offset } },
          { upsert: true },
        )
        .exec();
    } catch (error) {
      // The filter missed because a checkpoint at or beyond this offset exists; the upsert then collides on _id.
      if (!isDuplicateKey(error)) throw error;
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
    const query = this.modelFor(projection).find(filter).sort(options.sort ?? { _id: 1 });
    if (options.limit !== undefined) query.limit(options.limit);
    const stored = await query.lean<StoredDocument[]>().exec();
    return stored.map((doc) => withoutRevision<TDoc>(doc));
  }

  /**
   * Read, apply, write. Writes to one document are serialised in this process (see KeyedMutex); the revision
   * check additionally guards a second instance on a server with atomic filtered updates (MongoDB). Returns
   * false when the event changed nothing (already applied).
   */
  async apply<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, id: string, event: AuditEvent): Promise<boolean> {
    return this.writes.run(`${collectionOf(projection)}/${id}`, () => this.applyUnlocked(projection, id, event));
  }

  private async applyUnlocked<TDoc extends ProjectionDocument>(projection: Projection<TDoc>, id: string, event: AuditEvent): Promise<boolean> {
    const model = this.modelFor(projection);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const stored = await model.findById(id).lean<StoredDocument>().exec();
      const current = stored === null ? undefined : withoutRevision<TDoc>(stored);
      const next = projection.apply(current, event, id);
      if (next === current) return false;
      try {
        if (stored === null) {
          await model.insertMany([{ ...toStorable(next), _rev: 1 }], { lean: true });
          return true;
        }
        const result = await model.replaceOne({ _id: id, _rev: stored._rev }, { ...toStorable(next), _rev: stored._rev + 1 }).exec();
        if (result.matchedCount === 1) return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
    throw new Error(`${collectionOf(projection)}/${id}: gave up after ${MAX_WRITE_ATTEMPTS} concurrent-write conflicts`);
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
