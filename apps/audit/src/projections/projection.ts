import { ACCESS_DENIED_EVENTS } from '@grantline/contracts';
import type { CatalogueEvent, Envelope } from '@grantline/contracts';

/**
 * The governed lifecycle of a request and its grants, and the reconciliations that compare a connector's target
 * with those grants.
 */
export const LIFECYCLE_EVENT_TYPES = [
  'iga.request.submitted.v2',
  'iga.request.withdrawn.v1',
  'iga.revocation.requested.v1',
  'iga.policy.decision-recorded.v2',
  'iga.approval.task-opened.v1',
  'iga.approval.decision-recorded.v1',
  'iga.approval.request-approved.v1',
  'iga.approval.request-denied.v1',
  'iga.approval.escalated.v1',
  'iga.approval.self-approval-blocked.v1',
  'iga.approval.break-glass-granted.v1',
  'iga.approval.review-opened.v1',
  'iga.grant.created.v1',
  'iga.grant.provisioning-requested.v1',
  'iga.grant.activated.v1',
  'iga.grant.provisioning-failed.v1',
  'iga.grant.deprovisioning-requested.v1',
  'iga.grant.revoked.v1',
  'iga.grant.credential-issued.v1',
  'iga.grant.drift-detected.v1',
  'iga.grant.reconciliation-completed.v1',
  'iga.timer.fired.v2',
] as const satisfies readonly CatalogueEvent['type'][];

/**
 * The identity directory's facts a member's read access depends on: who manages a person, who owns a non-human
 * identity, who has left. Read from the identity source's events, never from the caller.
 */
export const IDENTITY_EVENT_TYPES = [
  'iga.identity.upserted.v1',
  'iga.identity.owner-changed.v1',
  'iga.identity.offboarded.v1',
] as const satisfies readonly CatalogueEvent['type'][];

type AccessDeniedEventType = (typeof ACCESS_DENIED_EVENTS)[number]['type'];
/** Every service's record of a refused API call: taken from the contracts, so a new writer's refusals are read too. */
export const ACCESS_DENIED_EVENT_TYPES: readonly AccessDeniedEventType[] = ACCESS_DENIED_EVENTS.map((def) => def.type);

/** Recertification campaigns: started, each item's answer or missed deadline, refused reviews, completed, today's verdicts. */
export const CAMPAIGN_EVENT_TYPES = [
  'iga.approval.campaign-started.v1',
  'iga.approval.certification-decided.v1',
  'iga.approval.certification-lapsed.v1',
  'iga.approval.certification-blocked.v1',
  'iga.approval.campaign-completed.v1',
  // The policy service's answer to a start: what the bundle running then decides for each item's recorded input.
  'iga.policy.review-items-evaluated.v1',
] as const satisfies readonly CatalogueEvent['type'][];

/** Every event type the audit projections read. */
export const AUDIT_EVENT_TYPES = [...LIFECYCLE_EVENT_TYPES, ...IDENTITY_EVENT_TYPES, ...ACCESS_DENIED_EVENT_TYPES, ...CAMPAIGN_EVENT_TYPES] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
/** A decoded event the audit reads; `switch (event.type)` narrows `data`. */
export type AuditEvent = Extract<CatalogueEvent, { type: AuditEventType }>;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];
/** An event of a request's or a grant's story (or of a reconciliation). */
export type LifecycleEvent = Extract<CatalogueEvent, { type: LifecycleEventType }>;
export type IdentityEvent = Extract<CatalogueEvent, { type: (typeof IDENTITY_EVENT_TYPES)[number] }>;
export type AccessDeniedEvent = Extract<CatalogueEvent, { type: AccessDeniedEventType }>;

const LIFECYCLE_TYPES: ReadonlySet<string> = new Set(LIFECYCLE_EVENT_TYPES);

export function isLifecycleEvent(event: AuditEvent): event is LifecycleEvent {
  return LIFECYCLE_TYPES.has(event.type);
}

/** Every read-model document remembers which events it already holds: applying one twice is a no-op. */
export interface ProjectionDocument {
  readonly _id: string;
  readonly appliedEventIds: readonly string[];
}

/**
 * One read model for one query (Emmett's "one projection per query"). Pure: no clock, no I/O. The
 * document must depend only on the *set* of events applied, never on the order in which different
 * topics were read, because a live run and a replay interleave topics differently and a rebuild must
 * reproduce the original exactly.
 */
export interface Projection<TDoc extends ProjectionDocument = ProjectionDocument> {
  readonly name: string;
  /** A new version is a new collection, rebuilt by replay, then switched to. */
  readonly version: number;
  readonly handles: readonly AuditEventType[];
  /** The documents this event changes; empty when the event says nothing to this projection. */
  documentIdsOf(event: AuditEvent): readonly string[];
  /** Returns `doc` itself (same reference) when the event changes nothing, e.g. when it was already applied. */
  apply(doc: TDoc | undefined, event: AuditEvent, documentId: string): TDoc;
}

export function collectionOf(projection: Pick<Projection, 'name' | 'version'>): string {
  return `${projection.name}_v${projection.version}`;
}

const AUDIT_TYPES: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES);

/** The decoded envelope as an audit event (narrowable by `type`), or undefined for a type the audit does not read. */
export function toAuditEvent(envelope: Envelope): AuditEvent | undefined {
  // The registry validated `data` against the schema of `type` before we get here, so the narrowing is sound.
  return AUDIT_TYPES.has(envelope.type) ? (envelope as AuditEvent) : undefined;
}

/** Times are normalised to UTC ISO strings so that equal instants compare and sort equal. */
export function utc(time: string): string {
  return new Date(time).toISOString();
}

/** A copy of `list` with `item` inserted at its sorted position. */
export function insertSorted<T>(list: readonly T[], item: T, compare: (a: T, b: T) => number): T[] {
  const copy = [...list];
  let index = copy.length;
  while (index > 0 && compare(copy[index - 1] as T, item) > 0) index -= 1;
  copy.splice(index, 0, item);
  return copy;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function hasApplied(doc: ProjectionDocument | undefined, event: Envelope): boolean {
  return doc?.appliedEventIds.includes(event.id) ?? false;
}

/** The applied ids kept sorted, so the stored document does not depend on arrival order. */
export function withApplied(doc: ProjectionDocument | undefined, event: Envelope): string[] {
  return insertSorted(doc?.appliedEventIds ?? [], event.id, byString);
}

export function compareStrings(a: string, b: string): number {
  return byString(a, b);
}

/**
 * The request an event belongs to. Events that carry no request id (grant and timer events) use the
 * envelope's correlation id, which the envelope contract defines as the request id.
 */
export function requestIdOf(event: LifecycleEvent): string | undefined {
  switch (event.type) {
    case 'iga.request.submitted.v2':
    case 'iga.request.withdrawn.v1':
    case 'iga.policy.decision-recorded.v2':
    case 'iga.approval.task-opened.v1':
    case 'iga.approval.decision-recorded.v1':
    case 'iga.approval.request-approved.v1':
    case 'iga.approval.request-denied.v1':
    case 'iga.approval.escalated.v1':
    case 'iga.approval.self-approval-blocked.v1':
    case 'iga.approval.break-glass-granted.v1':
    case 'iga.grant.created.v1':
      return event.data.requestId;
    case 'iga.revocation.requested.v1':
      return 'requestId' in event.data ? event.data.requestId : event.correlationid;
    case 'iga.approval.review-opened.v1':
      return event.data.requestId ?? event.correlationid;
    case 'iga.timer.fired.v2':
      return event.data.target.requestId ?? event.correlationid;
    case 'iga.grant.provisioning-requested.v1':
    case 'iga.grant.activated.v1':
    case 'iga.grant.provisioning-failed.v1':
    case 'iga.grant.deprovisioning-requested.v1':
    case 'iga.grant.revoked.v1':
    case 'iga.grant.credential-issued.v1':
      return event.correlationid;
    case 'iga.grant.drift-detected.v1':
      // Drift found by reconciliation without a grant belongs to no request.
      return event.data.grantId === undefined ? undefined : event.correlationid;
    case 'iga.grant.reconciliation-completed.v1':
      // A reconciliation covers a whole connector, not one request (its correlation id is the report id).
      return undefined;
  }
}
