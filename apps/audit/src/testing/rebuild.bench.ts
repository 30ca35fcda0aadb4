// The audit's side of `npm run bench:projection` (bench/projection.bench.ts): a rebuild of the read models from the
// log into an empty database through the start-up path the service runs (AuditCatchUp wired as AuditModule wires
// it), timed, then checked against the projections folded in memory.
import { isDeepStrictEqual } from 'node:util';
import type { Connection } from 'mongoose';
import type { EventRegistry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { StateReadinessRegistry } from '@grantline/messaging';
import { ReadModelStore } from '../persistence/read-model.store';
import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import { AUDIT_EVENT_TYPES, collectionOf, toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';
import { AuditCatchUp } from '../projector/audit-catch-up.service';
import { AuditProjector } from '../projector/audit.projector';
import { projectInMemory } from './in-memory-projection';

export { AUDIT_EVENT_TYPES };

export interface RebuildResult {
  /** Events the catch-up replayed. */
  readonly events: number;
  /** From the first attempt's start to caught up: indexes, the log claim, the replay, the folds and every write. */
  readonly ms: number;
  /** Of `ms`, the time spent writing documents and checkpoints (the projector's flushes). */
  readonly writeMs: number;
  /** Documents per collection after the rebuild. */
  readonly documents: Readonly<Record<string, number>>;
  /** Bytes of the documents as JSON (what was written, about). */
  readonly bytes: number;
  /** Every collection equals the projections folded in memory over `published`. */
  readonly equalToFold: boolean;
  readonly differing: readonly string[];
}

/** Rebuilds the read models of `published` (already on the bus's log) into `connection`'s empty database. */
export async function rebuildFromLog(bus: MessageBus, registry: EventRegistry, connection: Connection, published: readonly Envelope[]): Promise<RebuildResult> {
  const store = new ReadModelStore(connection, AUDIT_PROJECTIONS);
  const projector = new AuditProjector(store);
  let writeMs = 0;
  for (const name of ['flush', 'flushIfFull'] as const) {
    const write = projector[name].bind(projector);
    projector[name] = async () => {
      const writing = performance.now();
      try {
        await write();
      } finally {
        writeMs += performance.now() - writing;
      }
    };
  }
  const catchUp = new AuditCatchUp(bus, registry, store, projector, new StateReadinessRegistry());
  const started = performance.now();
  const report = await catchUp.ensureCaughtUp();
  const ms = performance.now() - started;
  await catchUp.close();

  const events = published.map(toAuditEvent).filter((event): event is AuditEvent => event !== undefined);
  const documents: Record<string, number> = {};
  const differing: string[] = [];
  let bytes = 0;
  for (const projection of AUDIT_PROJECTIONS) {
    const stored = await store.find(projection, {});
    const expected = [...projectInMemory(projection, events).values()].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    documents[collectionOf(projection)] = stored.length;
    bytes += stored.reduce((sum, doc) => sum + JSON.stringify(doc).length, 0);
    if (!isDeepStrictEqual(stored, JSON.parse(JSON.stringify(expected)))) differing.push(collectionOf(projection));
  }
  return { events: report.events, ms, writeMs, documents, bytes, equalToFold: differing.length === 0, differing };
}
