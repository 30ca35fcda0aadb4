import type { GrantState, GrantStatus } from './grant.state';

export interface RevocationHealth {
  readonly byStatus: Readonly<Record<GrantStatus, number>>;
  /**
   * Access that should be gone and may not be: a removal asked for longer than the allowance ago and not done, an
   * irrevocable grant (the connector gave up), or a grant past its expiry by more than the allowance with no
   * removal asked for (a missed expiry). The number an on-call engineer is paged on.
   */
  readonly overdue: number;
  /** The same, per connector: which target is not answering. */
  readonly overdueByConnector: Readonly<Record<string, number>>;
}

const NOT_REMOVED: ReadonlySet<GrantStatus> = new Set<GrantStatus>(['requested', 'provisioning', 'active', 'failed']);

/** Pure: counts over the grants as of `now`; `overdueAfterMs` is the allowance a removal has before it is overdue. */
export function revocationHealth(grants: Iterable<GrantState>, now: Date, overdueAfterMs: number): RevocationHealth {
  const byStatus: Record<GrantStatus, number> = { requested: 0, provisioning: 0, active: 0, deprovisioning: 0, revoked: 0, failed: 0, irrevocable: 0 };
  const overdueByConnector: Record<string, number> = {};
  let overdue = 0;
  const limit = now.getTime() - overdueAfterMs;
  for (const grant of grants) {
    byStatus[grant.status] += 1;
    if (isOverdue(grant, limit)) {
      overdue += 1;
      overdueByConnector[grant.connectorId] = (overdueByConnector[grant.connectorId] ?? 0) + 1;
    }
  }
  return { byStatus, overdue, overdueByConnector };
}

function isOverdue(grant: GrantState, limit: number): boolean {
  if (grant.status === 'irrevocable') return true;
  if (grant.status === 'deprovisioning') return grant.deprovisionRequestedAt !== undefined && Date.parse(grant.deprovisionRequestedAt) < limit;
  return NOT_REMOVED.has(grant.status) && Date.parse(grant.expiresAt) < limit;
}
