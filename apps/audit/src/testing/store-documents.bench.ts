// The audit's side of `npm run bench:store` (bench/store): read-model documents as the projector stores them, for
// measuring a MongoDB-wire store with the shapes it will hold. One request's story is folded for real; the many
// documents of a run are that fold's JSON with the request's own ids put in, because folding a million stories
// would take longer than loading them.
import { lifecycleStory } from '@grantline/contracts';
import { grantAccessProjection } from '../projections/grant-access.projection';
import type { GrantAccessDocument } from '../projections/grant-access.projection';
import { collectionOf, toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';
import { requestTimelineProjection } from '../projections/request-timeline.projection';
import type { RequestTimelineDocument } from '../projections/request-timeline.projection';
import { projectInMemory } from './in-memory-projection';

/** A stored document: the projection's document and the revision the store keeps beside it (ReadModelStore). */
export type StoredReadModel = Record<string, unknown> & { readonly _id: string; readonly _rev: number };

export interface ReadModelShapes {
  readonly grantAccessCollection: string;
  readonly requestTimelineCollection: string;
  /** Request `index`'s grant_access document, owned by `subjectId`. */
  grantAccess(index: number, subjectId: string): StoredReadModel;
  /** Request `index`'s request_timeline document (six entries: submitted to revoked). */
  requestTimeline(index: number, subjectId: string): StoredReadModel;
}

const TEMPLATE_INDEX = 0;
const REQUEST_TOKEN = 'req-0000000';
const SUBJECT_TOKEN = 'svc-0';

/** Folds request 0's story through grant_access and request_timeline once; every document is made from those. */
export function readModelShapes(): ReadModelShapes {
  const events = lifecycleStory(TEMPLATE_INDEX)
    .map(toAuditEvent)
    .filter((event): event is AuditEvent => event !== undefined);
  const grant = only(projectInMemory<GrantAccessDocument>(grantAccessProjection, events));
  const timeline = only(projectInMemory<RequestTimelineDocument>(requestTimelineProjection, events));
  const stamp = (template: string, changes: number) => {
    // the tokens are whole JSON strings or id prefixes ("req-0000000/evt-1", "req-0000000:ent-…"), never parts of other words
    const parts = template.split(REQUEST_TOKEN).map((part) => part.split(`"${SUBJECT_TOKEN}"`));
    return (index: number, subjectId: string): StoredReadModel => {
      const requestId = `req-${String(index).padStart(7, '0')}`;
      const subject = JSON.stringify(subjectId);
      const json = parts.map((pieces) => pieces.join(subject)).join(requestId);
      return { ...(JSON.parse(json) as Record<string, unknown> & { _id: string }), _rev: changes };
    };
  };
  return {
    grantAccessCollection: collectionOf(grantAccessProjection),
    requestTimelineCollection: collectionOf(requestTimelineProjection),
    grantAccess: stamp(JSON.stringify(grant), grant.appliedEventIds.length),
    requestTimeline: stamp(JSON.stringify(timeline), timeline.appliedEventIds.length),
  };
}

function only<TDoc>(documents: ReadonlyMap<string, TDoc>): TDoc {
  const [first, ...rest] = documents.values();
  if (first === undefined || rest.length > 0) throw new Error(`expected one document from one request's story, got ${documents.size}`);
  return first;
}
