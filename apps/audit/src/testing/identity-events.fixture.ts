import { AuditAccessDenied, IdentityOffboarded, IdentityOwnerChanged, IdentityUpserted, registry } from '@grantline/contracts';
import type { AccessDeniedData, Envelope, EventDefinition, Identity, IdentityOffboardedData, IdentityOwnerChangedData } from '@grantline/contracts';
import { toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';

const IDENTITY_SOURCE = { kind: 'service', id: 'hr-sync' } as const;

function encode<TData>(def: EventDefinition<string, TData>, data: TData, eventId: string, time: string, subject: string): AuditEvent {
  const envelope: Envelope = registry.encode(def, data, {
    id: eventId,
    source: 'grantline/audit-spec',
    time,
    subject,
    correlationid: subject,
    actor: IDENTITY_SOURCE,
  });
  const event = toAuditEvent(envelope);
  if (event === undefined) throw new Error(`${def.type} is not an audit event`);
  return event;
}

/** A person, with their manager of record. */
export function human(identityId: string, managerId?: string): Identity {
  return { identityId, kind: 'human', displayName: identityId, status: 'active', attributes: {}, ...(managerId === undefined ? {} : { managerId }) };
}

/** A service account, with its owner of record. */
export function serviceAccount(identityId: string, ownerId: string): Identity {
  return { identityId, kind: 'service_account', displayName: identityId, status: 'active', attributes: {}, ownerId };
}

export interface UpsertOptions {
  readonly eventId: string;
  readonly time: string;
  readonly sourceVersion?: number;
}

/** `iga.identity.upserted.v1` as the intake publishes it for the identity source. */
export function identityUpserted(identity: Identity, options: UpsertOptions): AuditEvent {
  return encode(
    IdentityUpserted,
    { identity, ...(options.sourceVersion === undefined ? {} : { sourceVersion: options.sourceVersion }) },
    options.eventId,
    options.time,
    identity.identityId,
  );
}

export function ownerChanged(
  data: Pick<IdentityOwnerChangedData, 'identityId' | 'newOwnerId'> & Partial<IdentityOwnerChangedData>,
  eventId: string,
  time: string,
): AuditEvent {
  return encode(IdentityOwnerChanged, { reason: 'transfer', changedBy: 'hr-sync', ...data }, eventId, time, data.identityId);
}

export function offboarded(data: Pick<IdentityOffboardedData, 'identityId'> & Partial<IdentityOffboardedData>, eventId: string, time: string): AuditEvent {
  return encode(IdentityOffboarded, { kind: 'human', effectiveAt: time, reason: 'leaver', ownedIdentityIds: [], ...data }, eventId, time, data.identityId);
}

/** A refusal as a service records it (the writer's own event type; the audit's by default). */
export function accessDenied(
  data: Pick<AccessDeniedData, 'principalId' | 'at'> & Partial<AccessDeniedData>,
  eventId: string,
  def: EventDefinition<string, AccessDeniedData> = AuditAccessDenied,
): AuditEvent {
  const full: AccessDeniedData = {
    principalKind: 'person',
    roles: ['member'],
    service: 'audit',
    operation: 'GET /v1/audit/requests/:requestId/timeline',
    status: 404,
    reason: 'unknown request',
    suppressedSincePrevious: 0,
    ...data,
  };
  const envelope: Envelope = registry.encode(def, full, {
    id: eventId,
    source: `grantline/${full.service}`,
    time: full.at,
    subject: full.principalId,
    correlationid: full.principalId,
    actor: { kind: full.principalKind === 'person' ? 'user' : 'service', id: full.principalId },
  });
  const event = toAuditEvent(envelope);
  if (event === undefined) throw new Error(`${def.type} is not an audit event`);
  return event;
}
