import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import type { AuditEvent, Projection, ProjectionDocument } from '../projections/projection';
import type { FindOptions, ReadModelFilter, ReadModelStore } from '../persistence/read-model.store';
import { projectInMemory } from './in-memory-projection';

type StoredFields = Record<string, unknown>;

function compareBy(sort: Readonly<Record<string, 1 | -1>>): (a: StoredFields, b: StoredFields) => number {
  return (a, b) => {
    for (const [field, direction] of Object.entries(sort)) {
      const [x, y] = [String(a[field]), String(b[field])];
      if (x !== y) return (x < y ? -1 : 1) * direction;
    }
    return 0;
  };
}

/** The store's read side over every projection folded in memory: `find` matches fields by equality, arrays by membership, then sorts and limits. */
export function storeOver(events: readonly AuditEvent[]): ReadModelStore {
  const byProjection = new Map<string, Map<string, ProjectionDocument>>(AUDIT_PROJECTIONS.map((p) => [p.name, projectInMemory(p, events)]));
  const documents = (projection: Projection) => [...(byProjection.get(projection.name)?.values() ?? [])] as unknown as StoredFields[];
  return {
    load: (projection: Projection, id: string) => Promise.resolve(byProjection.get(projection.name)?.get(id)),
    find: (projection: Projection, filter: ReadModelFilter, options: FindOptions = {}) =>
      Promise.resolve(
        documents(projection)
          .filter((doc) =>
            Object.entries(filter).every(([field, value]) => (Array.isArray(doc[field]) ? (doc[field] as unknown[]).includes(value) : doc[field] === value)),
          )
          .sort(compareBy(options.sort ?? { _id: 1 }))
          .slice(0, options.limit),
      ),
  } as unknown as ReadModelStore;
}
