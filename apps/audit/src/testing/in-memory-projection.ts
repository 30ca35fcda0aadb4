import type { AuditEvent, Projection, ProjectionDocument } from '../projections/projection';

/** Folds events through a projection the way the store does (ids, apply, keep), with no database. */
export function projectInMemory<TDoc extends ProjectionDocument>(
  projection: Projection<TDoc>,
  events: readonly AuditEvent[],
  documents: ReadonlyMap<string, TDoc> = new Map(),
): Map<string, TDoc> {
  const result = new Map(documents);
  for (const event of events) {
    for (const id of projection.documentIdsOf(event)) result.set(id, projection.apply(result.get(id), event, id));
  }
  return result;
}
