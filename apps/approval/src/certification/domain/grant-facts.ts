import { GrantActivated, GrantCreated, GrantDriftDetected, GrantExpiryShortened, GrantRevoked, isEvent } from '@grantline/contracts';
import type { DriftDetectedData, Envelope } from '@grantline/contracts';

export type GrantStatus = 'pending' | 'active' | 'ended';

/** What the approval service knows of a grant from the grants topic: enough to scope a campaign and show lineage. */
export interface GrantFact {
  readonly grantId: string;
  readonly requestId: string;
  readonly beneficiaryId: string;
  readonly entitlementId: string;
  readonly systemId: string;
  readonly expiresAt: string;
  readonly breakGlass: boolean;
  readonly decisionId: string;
  readonly createdAt: string;
  readonly status: GrantStatus;
  readonly activatedAt?: string;
  /** Earlier expiries, oldest first: a reduce moves it. */
  readonly expiryChanges: readonly { readonly from: string; readonly to: string; readonly at: string }[];
  readonly driftFindings: readonly Pick<DriftDetectedData, 'kind' | 'detectedAt' | 'remediation'>[];
}

export const GRANT_FACT_EVENTS = [GrantCreated, GrantActivated, GrantRevoked, GrantDriftDetected, GrantExpiryShortened] as const;

/**
 * Folds a grant event into the index (in place: the index is the service's, rebuilt by replay). Grant events of one
 * grant share its request's partition, so they arrive in order; a revoked grant stays ended whatever comes later.
 */
export const foldGrantFact = (grants: Map<string, GrantFact>, event: Envelope): void => {
  if (isEvent(event, GrantCreated)) {
    if (grants.has(event.data.grantId)) return;
    const { grantId, requestId, beneficiaryId, entitlementId, systemId, expiresAt, breakGlass, decisionId } = event.data;
    grants.set(grantId, {
      grantId,
      requestId,
      beneficiaryId,
      entitlementId,
      systemId,
      expiresAt,
      breakGlass,
      decisionId,
      createdAt: event.time,
      status: 'pending',
      expiryChanges: [],
      driftFindings: [],
    });
    return;
  }
  const grantId = 'grantId' in (event.data as object) ? (event.data as { grantId?: string }).grantId : undefined;
  const known = grantId === undefined ? undefined : grants.get(grantId);
  if (!known) return;
  if (isEvent(event, GrantActivated)) {
    if (known.status === 'pending') grants.set(known.grantId, { ...known, status: 'active', activatedAt: event.data.activatedAt });
  } else if (isEvent(event, GrantRevoked)) {
    grants.set(known.grantId, { ...known, status: 'ended' });
  } else if (isEvent(event, GrantExpiryShortened)) {
    if (known.expiryChanges.some((change) => change.to === event.data.expiresAt)) return;
    grants.set(known.grantId, {
      ...known,
      expiresAt: event.data.expiresAt,
      expiryChanges: [...known.expiryChanges, { from: event.data.previousExpiresAt, to: event.data.expiresAt, at: event.time }],
    });
  } else if (isEvent(event, GrantDriftDetected)) {
    const { kind, detectedAt, remediation } = event.data;
    if (known.driftFindings.some((finding) => finding.kind === kind && finding.detectedAt === detectedAt)) return;
    grants.set(known.grantId, { ...known, driftFindings: [...known.driftFindings, { kind, detectedAt, remediation }].slice(-20) });
  }
};

/** Live at `at`: activated, not removed, not past its expiry. */
export const isLive = (grant: GrantFact, at: string): boolean => grant.status === 'active' && Date.parse(grant.expiresAt) > Date.parse(at);
