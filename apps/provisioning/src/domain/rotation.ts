import {
  ConnectorCredentialRotated,
  ConnectorRotationFailed,
  ConnectorRotationRequested,
  GrantCredentialRotated,
  GrantRotationFailed,
  GrantRotationRequested,
  isEvent,
  rotationKeyOf,
} from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';

/** The grant-topic facts of a rotation, folded into the grant's state. */
export const ROTATION_GRANT_EVENTS = [GrantRotationRequested, GrantCredentialRotated, GrantRotationFailed] as const;
/** The connector results provisioning acts on. */
export const ROTATION_RESULTS = [ConnectorCredentialRotated, ConnectorRotationFailed] as const;

const ROTATION_TYPES: ReadonlySet<string> = new Set(ROTATION_GRANT_EVENTS.map((definition) => definition.type));

export interface RotationState {
  readonly status: 'requested' | 'rotated' | 'failed';
  /** The attempt number of the latest rotation command. */
  readonly attempts: number;
}

/** What a rotation decision emits; the decider derives each as an event of the grant. */
export interface RotationEmit<TData = unknown> {
  readonly definition: EventDefinition<string, TData>;
  readonly data: TData;
}

/** Deterministic per (grant, attempt): a redelivered command is recognisably the same command. */
export const rotationCommandIdOf = (grantId: string, attempt: number): string => `${rotationKeyOf(grantId)}:${attempt}`;

export const foldsRotation = (event: Envelope): boolean => ROTATION_TYPES.has(event.type);

/** A grant's rotation after one of its rotation events; a duplicate or a stale event leaves it as it is. */
export function evolveRotation(rotation: RotationState | undefined, event: Envelope): RotationState | undefined {
  if (isEvent(event, GrantRotationRequested)) {
    if (rotation && (rotation.status === 'rotated' || event.data.attempt <= rotation.attempts)) return rotation;
    return { status: 'requested', attempts: event.data.attempt };
  }
  if (!rotation || rotation.status !== 'requested') return rotation;
  if (isEvent(event, GrantCredentialRotated)) return { ...rotation, status: 'rotated' };
  if (isEvent(event, GrantRotationFailed) && event.data.terminal) return { ...rotation, status: 'failed' };
  return rotation;
}

export interface RotatableGrant {
  readonly grantId: string;
  readonly connectorId: string;
  readonly targetAccount: string;
  readonly rotation?: RotationState;
}

/** Asks the grant's connector to rotate what the grant used (attempt `attempt`), with the grant-topic fact. */
export function requestRotation(grant: RotatableGrant, triggeredBy: string, attempt: number): RotationEmit[] {
  const idempotencyKey = rotationKeyOf(grant.grantId);
  return [
    {
      definition: GrantRotationRequested,
      data: {
        grantId: grant.grantId,
        connectorId: grant.connectorId,
        targetAccount: grant.targetAccount,
        reason: 'break_glass_ended',
        idempotencyKey,
        attempt,
        triggeredBy,
      },
    },
    {
      definition: ConnectorRotationRequested,
      data: {
        commandId: rotationCommandIdOf(grant.grantId, attempt),
        connectorId: grant.connectorId,
        grantId: grant.grantId,
        targetAccount: grant.targetAccount,
        reason: 'break_glass_ended',
        idempotencyKey,
      },
    },
  ] as RotationEmit[];
}

/**
 * A break-glass grant's use has ended (its access is revoked): whatever it used is rotated, once. A grant whose
 * rotation was already asked for is left alone.
 */
export const rotationAfterUse = (grant: RotatableGrant & { readonly breakGlass: boolean }, triggeredBy: string): RotationEmit[] =>
  grant.breakGlass && grant.rotation === undefined ? requestRotation(grant, triggeredBy, 1) : [];

/**
 * A connector's answer to a rotation command: recorded when it answers the latest command (an earlier attempt's
 * answer is stale); a retriable failure is tried again up to `maxAttempts`, then the failure is terminal (an alert).
 */
export function rotationAfterResult(command: Envelope, grant: RotatableGrant | undefined, maxAttempts: number, triggeredBy: string): RotationEmit[] {
  if (!grant?.rotation || grant.rotation.status !== 'requested') return [];
  if (isEvent(command, ConnectorCredentialRotated)) {
    if (command.data.commandId !== rotationCommandIdOf(grant.grantId, grant.rotation.attempts)) return [];
    return [
      {
        definition: GrantCredentialRotated,
        data: {
          grantId: grant.grantId,
          connectorId: grant.connectorId,
          targetAccount: grant.targetAccount,
          rotatedAt: command.data.completedAt,
          alreadyApplied: command.data.alreadyApplied,
        },
      },
    ] as RotationEmit[];
  }
  if (isEvent(command, ConnectorRotationFailed)) {
    if (command.data.commandId !== rotationCommandIdOf(grant.grantId, grant.rotation.attempts)) return [];
    const { attempts } = grant.rotation;
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
    return terminal ? [failed] : [failed, ...requestRotation(grant, triggeredBy, attempts + 1)];
  }
  return [];
}
