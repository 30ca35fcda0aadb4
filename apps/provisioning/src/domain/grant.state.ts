import {
  GrantActivated,
  GrantCreated,
  GrantDeprovisioningRequested,
  GrantExpiryShortened,
  GrantProvisioningFailed,
  GrantProvisioningRequested,
  GrantRevoked,
  isEvent,
} from '@grantline/contracts';
import type { DeprovisionReason, Envelope, GrantOperation } from '@grantline/contracts';
import { ROTATION_GRANT_EVENTS, evolveRotation, foldsRotation } from './rotation';
import { withShortenedExpiry } from './certification-reaction';
import type { GrantCredential, RotationState } from './rotation';

/**
 * requested → provisioning → active → deprovisioning → revoked, with two explicit dead ends that raise an
 * alert: `failed` (provisioning gave up) and `irrevocable` (deprovisioning gave up: access may still be live).
 */
export type GrantStatus = 'requested' | 'provisioning' | 'active' | 'deprovisioning' | 'revoked' | 'failed' | 'irrevocable';

export interface GrantState {
  readonly grantId: string;
  readonly requestId: string;
  readonly beneficiaryId: string;
  readonly entitlementId: string;
  readonly systemId: string;
  readonly connectorId: string;
  readonly targetAccount: string;
  readonly expiresAt: string;
  readonly breakGlass: boolean;
  readonly status: GrantStatus;
  /** Attempt number of the latest provision / deprovision command (0 = never sent). */
  readonly attempts: Readonly<Record<GrantOperation, number>>;
  readonly deprovisionReason?: DeprovisionReason;
  /** When the first removal was asked for: how long a revocation has been waiting. */
  readonly deprovisionRequestedAt?: string;
  readonly activatedAt?: string;
  readonly revokedAt?: string;
  /** The grant's latest rotation (after a break-glass use, or an owner change of its machine identity). */
  readonly rotation?: RotationState;
  /** The credential the grant is delivered as now (issued with it, replaced by each rotation that replaces it). */
  readonly credential?: GrantCredential;
}

/** The grant events on the grants topic: the only events a grant's state is built from. */
export const GRANT_EVENTS = [
  GrantCreated,
  GrantProvisioningRequested,
  GrantActivated,
  GrantProvisioningFailed,
  GrantDeprovisioningRequested,
  GrantRevoked,
  ...ROTATION_GRANT_EVENTS,
  GrantExpiryShortened,
] as const;

/**
 * Grants that may still hold access in the target, so a removal trigger must deprovision them. `irrevocable` is one:
 * giving up on a removal raised the alert, but the access may still be live, so the removal is never abandoned.
 */
export const REMOVABLE: ReadonlySet<GrantStatus> = new Set<GrantStatus>(['requested', 'provisioning', 'active', 'failed', 'irrevocable']);

/**
 * One grant's state after one grant event. Pure; events that do not fit the current state (a duplicate, a late
 * activation after revocation) leave it unchanged, so replaying the log twice gives the same state.
 */
export function evolveGrant(grant: GrantState | undefined, event: Envelope): GrantState | undefined {
  if (isEvent(event, GrantCreated)) {
    if (grant) return grant;
    const { data } = event;
    return {
      grantId: data.grantId,
      requestId: data.requestId,
      beneficiaryId: data.beneficiaryId,
      entitlementId: data.entitlementId,
      systemId: data.systemId,
      connectorId: data.connectorId,
      targetAccount: data.targetAccount,
      expiresAt: data.expiresAt,
      breakGlass: data.breakGlass,
      status: 'requested',
      attempts: { provision: 0, deprovision: 0 },
    };
  }
  if (!grant) return grant;
  if (isEvent(event, GrantExpiryShortened)) return withShortenedExpiry(grant, event);
  if (foldsRotation(event)) return evolveRotation(grant, event);
  if (isEvent(event, GrantProvisioningRequested)) {
    if (grant.status !== 'requested' && grant.status !== 'provisioning') return grant;
    return { ...grant, status: 'provisioning', attempts: { ...grant.attempts, provision: Math.max(grant.attempts.provision, event.data.attempt) } };
  }
  if (isEvent(event, GrantActivated)) {
    if (grant.status !== 'requested' && grant.status !== 'provisioning') return grant;
    return { ...grant, status: 'active', activatedAt: event.data.activatedAt };
  }
  if (isEvent(event, GrantProvisioningFailed)) {
    if (!event.data.terminal) return grant;
    if (event.data.operation === 'provision') return grant.status === 'provisioning' ? { ...grant, status: 'failed' } : grant;
    return grant.status === 'deprovisioning' ? { ...grant, status: 'irrevocable' } : grant;
  }
  if (isEvent(event, GrantDeprovisioningRequested)) {
    if (!REMOVABLE.has(grant.status) && grant.status !== 'deprovisioning') return grant;
    return {
      ...grant,
      status: 'deprovisioning',
      deprovisionReason: grant.deprovisionReason ?? event.data.reason,
      deprovisionRequestedAt: grant.deprovisionRequestedAt ?? event.time,
      attempts: { ...grant.attempts, deprovision: Math.max(grant.attempts.deprovision, event.data.attempt) },
    };
  }
  if (isEvent(event, GrantRevoked)) {
    if (grant.status === 'revoked') return grant;
    return { ...grant, status: 'revoked', revokedAt: event.data.revokedAt };
  }
  return grant;
}
