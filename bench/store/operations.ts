import { mongo } from 'mongoose';
// eslint-disable-next-line @nx/enforce-module-boundaries -- an app exports nothing: the audit's document shapes come through its testing entry
import type { ReadModelShapes, StoredReadModel } from '../../apps/audit/src/testing/store-documents.bench';

/**
 * One client per candidate. A call that outlives its time budget is abandoned by closing the client (which ends the
 * server's work on that connection in FerretDB, whose queries run under the connection's context) and opening a new one.
 */
export class StoreSession {
  private client: mongo.MongoClient;

  constructor(
    private readonly url: string,
    readonly database: string,
  ) {
    this.client = StoreSession.connect(url);
  }

  private static connect(url: string): mongo.MongoClient {
    return new mongo.MongoClient(url, { serverSelectionTimeoutMS: 15_000, maxPoolSize: 4 });
  }

  db(): mongo.Db {
    return this.client.db(this.database);
  }

  async abandon(): Promise<void> {
    await this.client.close(true).catch(() => undefined);
    this.client = StoreSession.connect(this.url);
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}

export interface Measured {
  /** Calls that completed. */
  readonly calls: number;
  /** What the completed calls did: documents written or read, or calls. */
  readonly units: number;
  /** From the first call's start to the last one's end or abandonment. */
  readonly ms: number;
  /** units / ms: what completed over all the time spent, the abandoned call's included. */
  readonly perSecond: number;
  /** A call took longer than the whole budget and was abandoned. */
  readonly cut: boolean;
  /** No call completed: the rate was below what one call would have done in the time spent. */
  readonly atMost?: number;
  readonly error?: string;
}

class CallTimeout extends Error {}

/**
 * Calls `call` again and again until `budgetMs` is spent or `maxCalls` completed; one call may run for at most
 * `budgetMs` itself (so a scanning store costs at most twice the budget per operation, never an hour).
 */
export async function budgeted(
  session: StoreSession,
  budgetMs: number,
  maxCalls: number,
  call: (index: number) => Promise<number>,
  unitsPerCall = 1,
): Promise<Measured> {
  const started = performance.now();
  let calls = 0;
  let units = 0;
  let cut = false;
  let error: string | undefined;
  while (calls < maxCalls && performance.now() - started < budgetMs) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CallTimeout()), budgetMs);
      });
      units += await Promise.race([call(calls), timeout]);
      calls += 1;
    } catch (caught) {
      if (caught instanceof CallTimeout) {
        cut = true;
        await session.abandon();
      } else {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      break;
    } finally {
      clearTimeout(timer);
    }
  }
  const ms = performance.now() - started;
  return {
    calls,
    units,
    ms: Math.round(ms),
    perSecond: rate(units, ms),
    cut,
    ...(cut && calls === 0 ? { atMost: rate(unitsPerCall, ms) } : {}),
    ...(error === undefined ? {} : { error: error.slice(0, 300) }),
  };
}

/** Per second; three significant digits below 100 (a scanning store's 0.05/s must not read as 0). */
export const rate = (units: number, ms: number): number => {
  if (ms <= 0) return 0;
  const value = (units / ms) * 1_000;
  return value >= 100 ? Math.round(value) : Number(value.toPrecision(3));
};

export interface DataSet {
  readonly shapes: ReadModelShapes;
  /** Requests; each is one grant_access and one request_timeline document. */
  readonly requests: number;
  /** About ten grants per subject: the secondary-index lookups find a handful of documents, as the audit's do. */
  readonly subjects: number;
}

export const subjectOf = (data: Pick<DataSet, 'subjects'>, index: number): string => `svc-${index % data.subjects}`;
export const requestIdOf = (index: number): string => `req-${String(index).padStart(7, '0')}`;
const randomBelow = (limit: number): number => Math.floor(Math.random() * limit);

/** The indexes the audit's ReadModelStore declares for grant_access, created (as it does) before anything is written. */
export async function createProjectionIndexes(session: StoreSession, data: DataSet): Promise<void> {
  const grants = session.db().collection(data.shapes.grantAccessCollection);
  await grants.createIndex({ subjectId: 1 });
  await grants.createIndex({ entitlementId: 1 });
}

export interface Loaded {
  readonly measured: Measured;
  /** Requests whose two documents are stored (all of them unless the load ran out of budget). */
  readonly requests: number;
  readonly documents: number;
  readonly bytes: number;
}

/** insertMany of `chunk` documents a call, grant_access and request_timeline in turn, until all are in or the budget is spent. */
export async function load(session: StoreSession, data: DataSet, chunk: number, budgetMs: number, progress: (line: string) => void): Promise<Loaded> {
  const grants = session.db().collection<StoredReadModel>(data.shapes.grantAccessCollection);
  const timelines = session.db().collection<StoredReadModel>(data.shapes.requestTimelineCollection);
  let bytes = 0;
  let requests = 0;
  let nextReport = performance.now() + 30_000;
  const calls = Math.ceil(data.requests / chunk) * 2;
  const measured = await budgeted(
    session,
    budgetMs,
    calls,
    async (call) => {
      const first = Math.floor(call / 2) * chunk;
      const count = Math.min(chunk, data.requests - first);
      const timeline = call % 2 === 1;
      const documents = Array.from({ length: count }, (_, offset) => {
        const index = first + offset;
        return timeline ? data.shapes.requestTimeline(index, subjectOf(data, index)) : data.shapes.grantAccess(index, subjectOf(data, index));
      });
      bytes += documents.reduce((sum, doc) => sum + JSON.stringify(doc).length, 0);
      await (timeline ? timelines : grants).insertMany(documents, { ordered: false });
      if (timeline) requests = first + count;
      if (performance.now() > nextReport) {
        nextReport += 30_000;
        progress(`  loaded ${requests * 2} documents`);
      }
      return count;
    },
    chunk,
  );
  return { measured, requests, documents: measured.units, bytes };
}

export interface Explained {
  readonly supported: boolean;
  /** Whether the plan names an index scan (MongoDB's IXSCAN, PostgreSQL's Index Scan, SQLite's USING INDEX). */
  readonly usesIndex?: boolean;
  /** The plan, shortened. */
  readonly plan: string;
}

const INDEX_SCAN = /IXSCAN|Index Scan|Index Only Scan|USING INDEX|USING COVERING INDEX|INDEX_SCAN/i;

export async function explainFind(session: StoreSession, collection: string, filter: Record<string, unknown>): Promise<Explained> {
  try {
    const reply = await session.db().command({ explain: { find: collection, filter }, verbosity: 'queryPlanner' });
    const planner = (reply['queryPlanner'] ?? reply) as Record<string, unknown>;
    const text = JSON.stringify(planner['winningPlan'] ?? planner);
    const pushdown = reply['filterPushdown'] === undefined ? '' : ` filterPushdown=${String(reply['filterPushdown'])}`;
    return { supported: true, usesIndex: INDEX_SCAN.test(text), plan: `${text.slice(0, 400)}${pushdown}` };
  } catch (error) {
    return { supported: false, plan: `explain refused: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}` };
  }
}

export interface OperationSettings {
  readonly budgetMs: number;
  readonly maxCalls: number;
  /** Ids per `$in`: what the projector's loadMany asks for at once. */
  readonly inSize: number;
  /** replaceOne operations per bulkWrite. */
  readonly bulkSize: number;
}

export interface OperationResults {
  readonly findOneById: Measured & { readonly explain: Explained };
  readonly findBySecondary: Measured & { readonly explain: Explained };
  readonly inIds: Measured;
  readonly bulkReplace: Measured & { readonly matched: number; readonly attempted: number };
  readonly countWithFilter: Measured;
}

/**
 * The reads and writes the audit's projector and query side make, each against the loaded documents; the ones a
 * scanning store is expected to abandon last, since an abandoned call may go on on the server for a while.
 */
export async function measureOperations(session: StoreSession, data: DataSet, requests: number, settings: OperationSettings): Promise<OperationResults> {
  // collections are taken from the session at each call: an abandoned call replaces its client
  const { budgetMs, maxCalls } = settings;
  // A subject among those whose grants are stored (every subject below min(subjects, requests) has some).
  const someSubject = (): string => subjectOf(data, randomBelow(Math.min(data.subjects, requests)));

  // the audit's request lookup: one timeline by its request id
  const explainId = await explainFind(session, data.shapes.requestTimelineCollection, { _id: requestIdOf(randomBelow(requests)) });
  const findOneById = await budgeted(session, budgetMs, maxCalls, async () => {
    const doc = await session
      .db()
      .collection<StoredReadModel>(data.shapes.requestTimelineCollection)
      .findOne({ _id: requestIdOf(randomBelow(requests)) });
    if (doc === null) throw new Error('findOne by _id found nothing for a stored id');
    return 1;
  });

  // the audit's "grants of a subject": equality on an indexed field
  const explain = await explainFind(session, data.shapes.grantAccessCollection, { subjectId: someSubject() });
  const findBySecondary = await budgeted(session, budgetMs, maxCalls, async () => {
    const found = await session.db().collection(data.shapes.grantAccessCollection).find({ subjectId: someSubject() }).toArray();
    if (found.length === 0) throw new Error('find by subjectId found nothing for a stored subject');
    return 1;
  });

  // the audit's "grants a subject holds", counted
  const countWithFilter = await budgeted(session, budgetMs, maxCalls, async () => {
    await session.db().collection(data.shapes.grantAccessCollection).countDocuments({ subjectId: someSubject(), status: 'revoked' });
    return 1;
  });

  // the projector's loadMany: one batch's documents by id
  const inIds = await budgeted(
    session,
    budgetMs,
    maxCalls,
    async () => {
      const ids = Array.from({ length: settings.inSize }, () => requestIdOf(randomBelow(requests)));
      const found = await session
        .db()
        .collection<StoredReadModel>(data.shapes.requestTimelineCollection)
        .find({ _id: { $in: ids } })
        .toArray();
      return found.length;
    },
    settings.inSize,
  );

  // the projector's writeDocuments: replace where the stored revision is still the one the fold started from
  const replaced = new Set<number>();
  let matched = 0;
  let attempted = 0;
  const bulk = await budgeted(
    session,
    budgetMs,
    Math.max(1, Math.floor(requests / settings.bulkSize / 2)),
    async () => {
      const indexes: number[] = [];
      while (indexes.length < settings.bulkSize) {
        const index = randomBelow(requests);
        if (replaced.has(index)) continue;
        replaced.add(index);
        indexes.push(index);
      }
      const operations = indexes.map((index) => {
        const doc = data.shapes.requestTimeline(index, subjectOf(data, index));
        return { replaceOne: { filter: { _id: doc._id, _rev: doc._rev }, replacement: { ...doc, _rev: doc._rev + 1 } } };
      });
      attempted += operations.length;
      const result = await session.db().collection<StoredReadModel>(data.shapes.requestTimelineCollection).bulkWrite(operations, { ordered: false });
      matched += result.matchedCount;
      return operations.length;
    },
    settings.bulkSize,
  );

  return {
    findOneById: { ...findOneById, explain: explainId },
    findBySecondary: { ...findBySecondary, explain },
    inIds,
    bulkReplace: { ...bulk, matched, attempted },
    countWithFilter,
  };
}
