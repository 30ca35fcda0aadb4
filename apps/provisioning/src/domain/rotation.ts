import {
  ConnectorCredentialRotated,
  ConnectorRotationFailed,
  ConnectorRotationRequested,
  GrantCredentialIssued,
  GrantCredentialRotated,
  GrantRotationFailed,
  GrantRotationRequested,
  isEvent,
  rotatedCredentialIdOf,
  rotationKeyOf,
} from '@grantline/contracts';
import type {
  CredentialReplacement,
  CredentialType,
  Envelope,
  EventDefinition,
  GrantCredentialRotatedV2Data,
  GrantRotationRequestedV2Data,
  IdentityOwnerChangedData,
  RotationReasonV2,
  RotationRequestedV2Data,
} from '@grantline/contracts';

/**
 * The grant-topic facts about a grant's credential and its rotations, folded into the grant's state: which credential
 * the grant is delivered as now (issued, then replaced by each rotation) and where its latest rotation stands.
 */
export const ROTATION_GRANT_EVENTS = [GrantCredentialIssued, GrantRotationRequested, GrantCredentialRotated, GrantRotationFailed] as const;
/** The connector results provisioning acts on. */
export const ROTATION_RESULTS = [ConnectorCredentialRotated, ConnectorRotationFailed] as const;

const ROTATION_TYPES: ReadonlySet<string> = new Set(ROTATION_GRANT_EVENTS.map((definition) => definition.type));

export interface RotationState {
  readonly status: 'requested' | 'rotated' | 'failed';
  /** Which rotation of the grant (1, 2, ...): each owner change of a machine identity rotates its grants again. */
  readonly rotation: number;
  readonly reason: RotationReasonV2;
  /** The attempt number of the latest command of this rotation. */
  readonly attempts: number;
  /** The event that caused this rotation: the same cause delivered again rotates nothing more. */
  readonly triggeredBy: string;
  /** The replacement asked for (a retry asks for the same one). */
  readonly credential?: CredentialReplacement;
}

/** The credential a grant is delivered as now: reference only, never the secret. */
export interface GrantCredential {
  readonly credentialId: string;
  readonly type: Exclude<CredentialType, 'none'>;
  readonly expiresAt: string;
}

/** What a rotation decision emits; the decider derives each as an event of the grant. */
export interface RotationEmit<TData = unknown> {
  readonly definition: EventDefinition<string, TData>;
  readonly data: TData;
}

/** Deterministic per (grant, rotation, attempt): a redelivered command is recognisably the same command. */
export const rotationCommandIdOf = (grantId: string, attempt: number, rotation = 1): string => `${rotationKeyOf(grantId, rotation)}:${attempt}`;

export const foldsRotation = (event: Envelope): boolean => ROTATION_TYPES.has(event.type);

interface CredentialBearing {
  readonly credential?: GrantCredential;
  readonly rotation?: RotationState;
}

/** A grant's credential and rotation after one of these events; a duplicate or a stale event leaves them as they are. */
export function evolveRotation<TGrant extends CredentialBearing>(grant: TGrant, event: Envelope): TGrant {
  if (isEvent(event, GrantCredentialIssued)) {
    const { credentialId, credentialType, expiresAt } = event.data;
    return grant.credential ? grant : { ...grant, credential: { credentialId, type: credentialType, expiresAt } };
  }
  const { rotation } = grant;
  if (isEvent(event, GrantRotationRequested)) {
    const { data } = event;
    if (rotation && data.rotation < rotation.rotation) return grant;
    if (rotation && data.rotation === rotation.rotation && (rotation.status !== 'requested' || data.attempt <= rotation.attempts)) return grant;
    const next: RotationState = {
      status: 'requested',
      rotation: data.rotation,
      reason: data.reason,
      attempts: data.attempt,
      triggeredBy: data.triggeredBy,
      ...(data.credential ? { credential: data.credential } : {}),
    };
    return { ...grant, rotation: next };
  }
  if (!rotation || rotation.status !== 'requested') return grant;
  if (isEvent(event, GrantCredentialRotated)) {
    if (event.data.rotation !== rotation.rotation) return grant;
    const replaced = event.data.credential;
    return {
      ...grant,
      rotation: { ...rotation, status: 'rotated' },
      ...(replaced ? { credential: { credentialId: replaced.credentialId, type: replaced.type, expiresAt: replaced.expiresAt } } : {}),
    };
  }
  if (isEvent(event, GrantRotationFailed) && event.data.terminal) return { ...grant, rotation: { ...rotation, status: 'failed' } };
  return grant;
}

export interface RotatableGrant extends CredentialBearing {
  readonly grantId: string;
  readonly connectorId: string;
  readonly targetAccount: string;
}

interface RotationAsk {
  readonly reason: RotationReasonV2;
  readonly rotation: number;
  readonly attempt: number;
  readonly triggeredBy: string;
  readonly credential?: CredentialReplacement;
  /** The entitlement as the target names it: what a replacement is bound to. */
  readonly entitlementRef?: string;
}

/** Asks the grant's connector for rotation `ask.rotation` (attempt `ask.attempt`), with the grant-topic fact. */
export function requestRotation(grant: RotatableGrant, ask: RotationAsk): RotationEmit[] {
  const idempotencyKey = rotationKeyOf(grant.grantId, ask.rotation);
  const requested: GrantRotationRequestedV2Data = {
    grantId: grant.grantId,
    connectorId: grant.connectorId,
    targetAccount: grant.targetAccount,
    reason: ask.reason,
    rotation: ask.rotation,
    idempotencyKey,
    attempt: ask.attempt,
    triggeredBy: ask.triggeredBy,
    ...(ask.credential ? { credential: ask.credential } : {}),
  };
  const command: RotationRequestedV2Data = {
    commandId: rotationCommandIdOf(grant.grantId, ask.attempt, ask.rotation),
    connectorId: grant.connectorId,
    grantId: grant.grantId,
    targetAccount: grant.targetAccount,
    ...(ask.credential && ask.entitlementRef !== undefined ? { entitlementRef: ask.entitlementRef, credential: ask.credential } : {}),
    reason: ask.reason,
    rotation: ask.rotation,
    idempotencyKey,
  };
  return [
    { definition: GrantRotationRequested, data: requested },
    { definition: ConnectorRotationRequested, data: command },
  ] as RotationEmit[];
}

const nextRotationOf = (grant: RotatableGrant): number => (grant.rotation?.rotation ?? 0) + 1;

/**
 * A break-glass grant's use has ended (its access is revoked): whatever it used is rotated, once. A grant whose
 * after-use rotation was already asked for is left alone (an earlier owner-change rotation does not count).
 */
export const rotationAfterUse = (grant: RotatableGrant & { readonly breakGlass: boolean }, triggeredBy: string): RotationEmit[] =>
  grant.breakGlass && grant.rotation?.reason !== 'break_glass_ended'
    ? requestRotation(grant, { reason: 'break_glass_ended', rotation: nextRotationOf(grant), attempt: 1, triggeredBy })
    : [];

export interface OwnedGrant extends RotatableGrant {
  readonly status: string;
  readonly expiresAt: string;
  /** The entitlement's externalRef, when the catalogue still names it. */
  readonly entitlementRef: string | undefined;
}

/**
 * A machine identity's owner of record changed (`iga.identity.owner-changed`): the former owner may have retrieved the
 * identity's secrets, so every active grant delivered as a credential is rotated with a REPLACEMENT: a new credential
 * for the same grant, ending when the current one does (never beyond the grant), that only the new owner and the
 * identity itself may retrieve; the connector revokes the old one. Grants with no credential, not active, whose
 * credential has expired, or whose entitlement the catalogue no longer names are left alone, as is a cause already
 * acted on (a redelivered owner change).
 */
export function rotationsAfterOwnerChange(grants: readonly OwnedGrant[], change: IdentityOwnerChangedData, triggeredBy: string, at: string): RotationEmit[] {
  if (change.previousOwnerId === change.newOwnerId) return [];
  const holders = [...new Set([change.newOwnerId, change.identityId])];
  return grants.flatMap((grant) => {
    const { credential, entitlementRef } = grant;
    if (grant.status !== 'active' || !credential || entitlementRef === undefined || grant.rotation?.triggeredBy === triggeredBy) return [];
    const expiresAt = Date.parse(grant.expiresAt) < Date.parse(credential.expiresAt) ? grant.expiresAt : credential.expiresAt;
    if (Date.parse(expiresAt) <= Date.parse(at)) return [];
    const rotation = nextRotationOf(grant);
    const replacement: CredentialReplacement = { credentialId: rotatedCredentialIdOf(grant.grantId, rotation), type: credential.type, holders, expiresAt };
    return requestRotation(grant, { reason: 'owner_changed', rotation, attempt: 1, triggeredBy, credential: replacement, entitlementRef });
  });
}

/**
 * A connector's answer to a rotation command: recorded when it answers the latest command (an earlier attempt's or
 * an earlier rotation's answer is stale); a retriable failure is tried again up to `maxAttempts`, then the failure is
 * terminal (an alert).
 */
export function rotationAfterResult(
  command: Envelope,
  grant: (RotatableGrant & { readonly entitlementRef?: string }) | undefined,
  maxAttempts: number,
): RotationEmit[] {
  const rotation = grant?.rotation;
  if (!grant || !rotation || rotation.status !== 'requested') return [];
  const current = rotationCommandIdOf(grant.grantId, rotation.attempts, rotation.rotation);
  if (isEvent(command, ConnectorCredentialRotated)) {
    if (command.data.commandId !== current) return [];
    const { credential } = command.data;
    const rotated: GrantCredentialRotatedV2Data = {
      grantId: grant.grantId,
      connectorId: grant.connectorId,
      targetAccount: grant.targetAccount,
      rotation: rotation.rotation,
      rotatedAt: command.data.completedAt,
      alreadyApplied: command.data.alreadyApplied,
      ...(credential ? { credential } : {}),
    };
    return [{ definition: GrantCredentialRotated, data: rotated }] as RotationEmit[];
  }
  if (isEvent(command, ConnectorRotationFailed)) {
    if (command.data.commandId !== current) return [];
    const { attempts } = rotation;
    const retriable = command.data.errorClass === 'retriable';
    const terminal = !retriable || attempts >= maxAttempts;
    const failed: RotationEmit = {
      definition: GrantRotationFailed,
      data: {
        grantId: grant.grantId,
        connectorId: grant.connectorId,
        code: command.data.code,
        reason: command.data.message,
        retriable,
        attempts,
        terminal,
        failedAt: command.data.failedAt,
      },
    } as RotationEmit;
    if (terminal) return [failed];
    const retry = requestRotation(grant, {
      reason: rotation.reason,
      rotation: rotation.rotation,
      attempt: attempts + 1,
      // The retry keeps the rotation's cause (this failure is only why it is tried again), so a redelivered cause is still recognised.
      triggeredBy: rotation.triggeredBy,
      ...(rotation.credential ? { credential: rotation.credential } : {}),
      ...(grant.entitlementRef !== undefined ? { entitlementRef: grant.entitlementRef } : {}),
    });
    return [failed, ...retry];
  }
  return [];
}
