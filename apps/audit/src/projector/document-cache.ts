import type { AuditEvent, Projection, ProjectionDocument } from '../projections/projection';
import { collectionOf } from '../projections/projection';
import type { ReadModelStore } from '../persistence/read-model.store';

/** Rounds of conflicts (another writer moved a document between our read and our write) before a flush gives up. */
const MAX_WRITE_ATTEMPTS = 20;
/** Ids remembered for documents dropped from memory; past this the cache stops vouching for absent ids. */
const MAX_EVICTED_IDS = 1_000_000;

interface Entry<TDoc> {
  /** Undefined: not in the collection. */
  doc: TDoc | undefined;
  /** The revision stored; 0 when not stored. */
  rev: number;
  /** The events that changed `doc` since it was stored, replayed onto a fresher copy when a write conflicts. */
  pending: AuditEvent[];
}

/**
 * One collection's documents as this process knows them: read at most once (many ids per query), folded in memory,
 * written back many at a time. Every write names the revision it was computed from, so knowledge gone stale (another
 * writer, a write that failed halfway) shows as a conflict: those documents are read again and their pending events
 * folded once more, which the projections' idempotence makes safe.
 */
export class DocumentCache<TDoc extends ProjectionDocument = ProjectionDocument> {
  private readonly entries = new Map<string, Entry<TDoc>>();
  /** Stored documents whose content was dropped from memory: an event for one of them reads it again. */
  private readonly evicted = new Set<string>();
  /**
   * Whether every stored document is in `entries` or `evicted`, so an id found in neither is new and needs no read.
   * True when the collection was empty when first looked at (a rebuild into a fresh database: nearly every document
   * is new, and on a store that scans for each read this is what makes a rebuild fast). Unknown until then.
   */
  private complete: boolean | undefined;

  constructor(
    readonly projection: Projection<TDoc>,
    private readonly store: ReadModelStore,
  ) {}

  /** Documents changed and not written yet. */
  get unwritten(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.pending.length > 0) count += 1;
    return count;
  }

  /** Makes the documents of `ids` known before a fold, reading the ones that may exist with a single query. */
  async ensure(ids: Iterable<string>): Promise<void> {
    const unknown: string[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry === undefined) unknown.push(id);
      else {
        // Most recently used last: eviction drops from the front.
        this.entries.delete(id);
        this.entries.set(id, entry);
      }
    }
    if (unknown.length === 0) return;
    this.complete ??= await this.store.isEmpty(this.projection);
    const toRead = this.complete ? unknown.filter((id) => this.evicted.has(id)) : unknown;
    const stored = toRead.length > 0 ? await this.store.loadMany(this.projection, toRead) : new Map<string, never>();
    for (const id of unknown) {
      const found = stored.get(id);
      this.entries.set(id, { doc: found?.doc, rev: found?.rev ?? 0, pending: [] });
      this.evicted.delete(id);
    }
  }

  /** Folds an event into a document made known by `ensure`; true when it changed it. */
  apply(id: string, event: AuditEvent): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new Error(`${collectionOf(this.projection)}/${id} was not loaded before the fold`);
    const next = this.projection.apply(entry.doc, event, id);
    if (next === entry.doc) return false;
    entry.doc = next;
    entry.pending.push(event);
    return true;
  }

  /**
   * Writes every changed document (new ones inserted, the others replaced at the revision they were computed from),
   * then recomputes the ones that conflicted from what is stored and writes those again. A failure leaves them
   * changed, to be written by the next flush.
   */
  async flush(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const changed = [...this.entries].filter(([, entry]) => entry.pending.length > 0);
      if (changed.length === 0) return;
      const writes = changed.map(([, { doc, rev, pending }]) => ({ doc: doc as TDoc, rev, changes: pending.length }));
      const suspects = new Set(await this.store.writeDocuments(this.projection, writes));
      for (const [id, entry] of changed) {
        if (suspects.has(id)) continue;
        entry.rev += entry.pending.length;
        entry.pending = [];
      }
      if (suspects.size === 0) return;
      // Someone else writes here too (or an earlier, failed flush of ours landed in part): ids unknown here may exist.
      this.complete = false;
      const stored = await this.store.loadMany(this.projection, [...suspects]);
      for (const id of suspects) this.rebase(id, stored.get(id));
    }
    throw new Error(`${collectionOf(this.projection)}: gave up after ${MAX_WRITE_ATTEMPTS} rounds of concurrent-write conflicts`);
  }

  /** Keeps at most `keep` documents in memory, dropping the least recently used that are written. */
  evict(keep: number): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= keep) break;
      if (entry.pending.length > 0) continue;
      this.entries.delete(id);
      if (entry.rev > 0) this.evicted.add(id);
    }
    if (this.evicted.size > MAX_EVICTED_IDS) {
      this.evicted.clear();
      this.complete = false;
    }
  }

  /** Forgets everything (the database was dropped or replaced under this process). */
  reset(): void {
    this.entries.clear();
    this.evicted.clear();
    this.complete = undefined;
  }

  /** The stored copy with this process's pending events folded onto it; unchanged by them means ours had landed. */
  private rebase(id: string, stored: { doc: TDoc; rev: number } | undefined): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    let doc = stored?.doc;
    const pending: AuditEvent[] = [];
    for (const event of entry.pending) {
      const next = this.projection.apply(doc, event, id);
      if (next === doc) continue;
      doc = next;
      pending.push(event);
    }
    this.entries.set(id, { doc, rev: stored?.rev ?? 0, pending });
  }
}
