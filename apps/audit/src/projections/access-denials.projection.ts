import type { AccessDeniedData } from '@grantline/contracts';
import { ACCESS_DENIED_EVENT_TYPES, utc } from './projection';
import type { AccessDeniedEvent, AuditEvent, Projection, ProjectionDocument } from './projection';

/**
 * One refused API call, as the refusing service recorded it: who (and with which roles) tried what on which
 * object, the answer (403, or a 404 that hid the object) and why. One document per event, keyed by its id, so the
 * list is the same whatever order the services' topics were read in.
 */
export interface AccessDenialDocument extends ProjectionDocument {
  readonly eventId: string;
  readonly principalId: string;
  readonly principalKind: AccessDeniedData['principalKind'];
  readonly roles: readonly string[];
  readonly service: string;
  readonly operation: string;
  readonly objectRef?: string;
  readonly status: AccessDeniedData['status'];
  readonly reason: string;
  /** When the call was refused, UTC. */
  readonly at: string;
  /** Refusals of this principal by this service not recorded (rate limit) since its previous record. */
  readonly suppressedSincePrevious: number;
}

const ACCESS_DENIED_TYPES: ReadonlySet<string> = new Set(ACCESS_DENIED_EVENT_TYPES);

function isAccessDeniedEvent(event: AuditEvent): event is AccessDeniedEvent {
  return ACCESS_DENIED_TYPES.has(event.type);
}

function denialOf(event: AccessDeniedEvent): AccessDenialDocument {
  const d = event.data;
  return {
    _id: event.id,
    eventId: event.id,
    principalId: d.principalId,
    principalKind: d.principalKind,
    roles: [...d.roles],
    service: d.service,
    operation: d.operation,
    ...(d.objectRef === undefined ? {} : { objectRef: d.objectRef }),
    status: d.status,
    reason: d.reason,
    at: utc(d.at),
    suppressedSincePrevious: d.suppressedSincePrevious,
    appliedEventIds: [event.id],
  };
}

/** Every service's refused calls, one list: what security reviews for probing and misuse. */
export const accessDenialsProjection: Projection<AccessDenialDocument> = {
  name: 'access_denials',
  version: 1,
  handles: ACCESS_DENIED_EVENT_TYPES,
  documentIdsOf(event) {
    return isAccessDeniedEvent(event) ? [event.id] : [];
  },
  apply(doc, event, id) {
    // A refusal is recorded once and never changes: a second delivery of its event finds the document in place.
    if (doc !== undefined) return doc;
    if (!isAccessDeniedEvent(event) || event.id !== id) throw new Error(`access_denials/${id}: ${event.type} ${event.id} is not this refusal`);
    return denialOf(event);
  },
};
