import type { Envelope } from '@grantline/contracts';
import { collectionOf, toAuditEvent } from '../projections/projection';
import type { AuditEvent, Projection } from '../projections/projection';
import { checkpointIdOf, offsetNumber } from '../persistence/read-model.store';
import type { LogPosition, ReadModelStore } from '../persistence/read-model.store';
import { CheckpointBook } from './checkpoint-book';
import { DocumentCache } from './document-cache';

export interface ProjectOutcome {
  /** Projections whose documents changed, summed over the events. */
  readonly applied: number;
  /** Projections that had already stored an event's position (a redelivery), summed over the events. */
  readonly skipped: number;
}

/** An event and where it was read. */
export interface PositionedEvent {
  readonly event: Envelope;
  readonly position: LogPosition;
}

export interface AuditProjectorOptions {
  /**
   * Documents each collection keeps in memory between batches (beyond it the least recently used written ones are
   * dropped and read again when needed); also how many unwritten documents a rebuild holds before writing them.
   */
  readonly maxDocumentsInMemory?: number;
}

/** A request's documents take about 3.5 KB each in memory (measured on 12-event lifecycles): some 35 MB a collection. */
const DEFAULT_MAX_DOCUMENTS_IN_MEMORY = 10_000;

interface Folded {
  readonly event: AuditEvent;
  readonly position: LogPosition;
  readonly offset: number;
}

/**
 * Feeds events into every projection that reads them, a batch at a time: the checkpoints and documents the batch
 * touches are read with one query per collection (none for documents known to be new), the events are folded in
 * memory through the pure projections, then each collection is written once and the checkpoints after it. An event at
 * or below a projection's checkpoint for its partition is skipped; a crash between the documents and the checkpoints
 * redelivers the batch, which the documents' applied-event ids turn into a no-op.
 *
 * Live batches are written before `projectBatch` returns (the consumer commits after it). A rebuild folds with `fold`
 * and writes when memory is full (`flushIfFull`, documents only) and once at the end (`flush`, with the checkpoints),
 * so a document is written about once however many batches touched it, and an interrupted rebuild leaves no
 * checkpoint that would stop the next start from replaying again.
 */
export class AuditProjector {
  private readonly caches: ReadonlyMap<string, DocumentCache>;
  private readonly checkpoints: CheckpointBook;
  private readonly maxDocuments: number;
  /** One batch at a time: a fold and its write see and leave the caches whole. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ReadModelStore,
    options: AuditProjectorOptions = {},
  ) {
    this.caches = new Map(store.projections.map((projection) => [collectionOf(projection), new DocumentCache(projection, store)]));
    this.checkpoints = new CheckpointBook(store);
    this.maxDocuments = options.maxDocumentsInMemory ?? DEFAULT_MAX_DOCUMENTS_IN_MEMORY;
  }

  get projections(): readonly Projection[] {
    return this.store.projections;
  }

  /** One event, written before it returns. */
  project(event: Envelope, position: LogPosition): Promise<ProjectOutcome> {
    return this.projectBatch([{ event, position }]);
  }

  /** A batch of events (a consumer's partition batch), written, documents then checkpoints, before it returns. */
  projectBatch(events: readonly PositionedEvent[]): Promise<ProjectOutcome> {
    return this.serially(async () => {
      const outcome = await this.foldNow(events);
      await this.write(true);
      return outcome;
    });
  }

  /** Folds a batch in memory only: `flushIfFull` and `flush` write it. */
  fold(events: readonly PositionedEvent[]): Promise<ProjectOutcome> {
    return this.serially(() => this.foldNow(events));
  }

  /** Writes the documents (not the checkpoints) once more are unwritten than a collection keeps in memory. */
  flushIfFull(): Promise<void> {
    return this.serially(async () => {
      if ([...this.caches.values()].some((cache) => cache.unwritten > this.maxDocuments)) await this.write(false);
    });
  }

  /** Writes everything folded: the documents, then the checkpoints. */
  flush(): Promise<void> {
    return this.serially(() => this.write(true));
  }

  /** Forget what is known of the database (it was dropped under a running process). */
  reset(): void {
    for (const cache of this.caches.values()) cache.reset();
    this.checkpoints.reset();
  }

  private async foldNow(batch: readonly PositionedEvent[]): Promise<ProjectOutcome> {
    const events: Folded[] = [];
    for (const { event, position } of batch) {
      const audit = toAuditEvent(event);
      if (audit !== undefined) events.push({ event: audit, position, offset: offsetNumber(position.offset) });
    }
    if (events.length === 0) return { applied: 0, skipped: 0 };
    await this.load(events);
    let applied = 0;
    let skipped = 0;
    for (const { event, position, offset } of events) {
      for (const projection of this.projections) {
        // Checkpoints only move for events a projection reads; ignored events may be re-read, never skipped unseen.
        if (!projection.handles.includes(event.type)) continue;
        if (this.checkpoints.passed(checkpointIdOf(projection, position.topic, position.partition), offset)) {
          skipped += 1;
          continue;
        }
        const cache = this.cacheOf(projection);
        let changed = false;
        for (const id of projection.documentIdsOf(event)) changed = cache.apply(id, event) || changed;
        this.checkpoints.advance(projection, position, offset);
        if (changed) applied += 1;
      }
    }
    return { applied, skipped };
  }

  /** The checkpoints of the batch's partitions, then the documents its events may change: one query per collection. */
  private async load(events: readonly Folded[]): Promise<void> {
    const reading = (projection: Projection, event: AuditEvent): boolean => projection.handles.includes(event.type);
    const checkpointIds = events.flatMap(({ event, position }) =>
      this.projections.filter((projection) => reading(projection, event)).map((projection) => checkpointIdOf(projection, position.topic, position.partition)),
    );
    await this.checkpoints.ensure(checkpointIds);
    for (const projection of this.projections) {
      const ids = new Set<string>();
      for (const { event, position, offset } of events) {
        const passed = this.checkpoints.passed(checkpointIdOf(projection, position.topic, position.partition), offset);
        if (!reading(projection, event) || passed) continue;
        for (const id of projection.documentIdsOf(event)) ids.add(id);
      }
      if (ids.size > 0) await this.cacheOf(projection).ensure(ids);
    }
  }

  /** Documents first, the collections side by side, then (when asked) the checkpoints that vouch for them. */
  private async write(withCheckpoints: boolean): Promise<void> {
    // Side by side: the store encodes one collection's documents while it writes another's (measured on FerretDB:
    // about a fifth faster). Settled, not raced: no write may still run when the next batch folds into the caches.
    const written = await Promise.allSettled([...this.caches.values()].map((cache) => cache.flush()));
    const failed = written.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    if (withCheckpoints) await this.checkpoints.flush();
    for (const cache of this.caches.values()) cache.evict(this.maxDocuments);
  }

  private cacheOf(projection: Projection): DocumentCache {
    const cache = this.caches.get(collectionOf(projection));
    if (cache === undefined) throw new Error(`No collection for projection ${collectionOf(projection)}`);
    return cache;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
