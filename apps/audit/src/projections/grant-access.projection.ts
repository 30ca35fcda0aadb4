import type { DeprovisionReason } from '@grantline/contracts';
import { hasApplied, utc, withApplied } from './projection';
import type { AuditEvent, AuditEventType, Projection, ProjectionDocument } from './projection';

/**
 * `pending` (created, not yet in the target) → `active` → `deprovisioning` → `revoked`; `failed` when
 * provisioning gave up; `revocation_failed` when removal gave up: access may still be live, so it counts as held.
 */
export type GrantStatus = 'pending' | 'active' | 'failed' | 'deprovisioning' | 'revocation_failed' | 'revoked';

/** Statuses in which the subject holds, or may hold, the access. */
export const HELD_STATUSES: readonly GrantStatus[] = ['pending', 'active', 'deprovisioning', 'revocation_failed'];

export interface GrantAccessDocument extends ProjectionDocument {
  readonly grantId: string;
  readonly status: GrantStatus;
  readonly requestId?: string;
  readonly subjectId?: string;
  readonly entitlementId?: string;
  readonly systemId?: string;
  readonly connectorId?: string;
  readonly targetAccount?: string;
  readonly breakGlass?: boolean;
  readonly createdAt?: string;
  readonly activatedAt?: string;
  readonly expiresAt?: string;
  readonly deprovisionRequestedAt?: string;
  readonly deprovisionReason?: DeprovisionReason;
  readonly revokedAt?: string;
  readonly revokeReason?: DeprovisionReason;
  readonly provisionFailedTerminally?: boolean;
  readonly deprovisionFailedTerminally?: boolean;
}

type Facts = Omit<GrantAccessDocument, 'status' | '_id' | 'appliedEventIds' | 'grantId'>;

/** Status from the facts gathered so far, not from the order they arrived in. */
export function grantStatusOf(facts: Facts): GrantStatus {
  if (facts.revokedAt !== undefined) return 'revoked';
  if (facts.deprovisionFailedTerminally === true) return 'revocation_failed';
  if (facts.deprovisionRequestedAt !== undefined) return 'deprovisioning';
  if (facts.activatedAt !== undefined) return 'active';
  if (facts.provisionFailedTerminally === true) return 'failed';
  return 'pending';
}

const GRANT_EVENTS = [
  'iga.grant.created.v1',
  'iga.grant.activated.v1',
  'iga.grant.provisioning-failed.v1',
  'iga.grant.deprovisioning-requested.v1',
  'iga.grant.revoked.v1',
] as const satisfies readonly AuditEventType[];

type GrantEvent = Extract<AuditEvent, { type: (typeof GRANT_EVENTS)[number] }>;

const GRANT_EVENT_TYPES: ReadonlySet<string> = new Set(GRANT_EVENTS);

function isGrantEvent(event: AuditEvent): event is GrantEvent {
  return GRANT_EVENT_TYPES.has(event.type);
}

/** The facts one grant event adds; empty for events this projection does not read. */
function factsOf(event: GrantEvent): Facts {
  switch (event.type) {
    case 'iga.grant.created.v1': {
      const d = event.data;
      return {
        requestId: d.requestId,
        subjectId: d.beneficiaryId,
        entitlementId: d.entitlementId,
        systemId: d.systemId,
        connectorId: d.connectorId,
        targetAccount: d.targetAccount,
        breakGlass: d.breakGlass,
        createdAt: utc(event.time),
        expiresAt: utc(d.expiresAt),
      };
    }
    case 'iga.grant.activated.v1':
      // The activation states the expiry actually in force; it wins over the one planned at creation.
      return { activatedAt: utc(event.data.activatedAt), expiresAt: utc(event.data.expiresAt) };
    case 'iga.grant.provisioning-failed.v1':
      if (!event.data.terminal) return {};
      return event.data.operation === 'provision' ? { provisionFailedTerminally: true } : { deprovisionFailedTerminally: true };
    case 'iga.grant.deprovisioning-requested.v1':
      return { deprovisionRequestedAt: utc(event.time), deprovisionReason: event.data.reason };
    case 'iga.grant.revoked.v1':
      return { revokedAt: utc(event.data.revokedAt), revokeReason: event.data.reason };
  }
}

/** Merges facts so that each field keeps the same value whatever order its events arrived in. */
function merge(current: Facts, added: Facts, event: GrantEvent): Facts {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(added)) {
    // creation fills the planned expiry only if the activation has not already set the real one
    if (key === 'expiresAt' && event.type === 'iga.grant.created.v1' && current.activatedAt !== undefined) continue;
    // the first deprovisioning request names why removal started; retries keep it
    if ((key === 'deprovisionRequestedAt' || key === 'deprovisionReason') && current.deprovisionRequestedAt !== undefined) {
      if (key === 'deprovisionRequestedAt' && typeof value === 'string' && value < current.deprovisionRequestedAt) {
        merged['deprovisionRequestedAt'] = value;
        merged['deprovisionReason'] = added.deprovisionReason;
      }
      continue;
    }
    merged[key] = value;
  }
  return merged as Facts;
}

/** Who has access: one document per grant, found by subject or by entitlement. */
export const grantAccessProjection: Projection<GrantAccessDocument> = {
  name: 'grant_access',
  version: 1,
  handles: GRANT_EVENTS,
  documentIdsOf(event) {
    return isGrantEvent(event) ? [event.data.grantId] : [];
  },
  apply(doc, event, grantId) {
    if ((doc !== undefined && hasApplied(doc, event)) || !isGrantEvent(event)) {
      return doc ?? { _id: grantId, grantId, status: 'pending', appliedEventIds: [] };
    }
    const {
      _id: _ignoredId,
      appliedEventIds: _ignoredApplied,
      grantId: _ignoredGrant,
      status: _ignoredStatus,
      ...current
    } = doc ?? { _id: grantId, appliedEventIds: [], grantId, status: 'pending' as const };
    const facts = merge(current, factsOf(event), event);
    return { _id: grantId, grantId, status: grantStatusOf(facts), ...facts, appliedEventIds: withApplied(doc, event) };
  },
};
