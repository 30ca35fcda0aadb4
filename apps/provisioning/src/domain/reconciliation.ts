import { GrantDriftDetected, GrantReconciliationCompleted } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, StateReportedData } from '@grantline/contracts';
import type { GrantState, GrantStatus } from './grant.state';
import { provisioningEvents } from './provisioning.decider';
import type { ProvisioningContext } from './provisioning.decider';
import type { ProvisioningView } from './provisioning.state';

/** A connector's whole answer: every page of one report. */
export interface StateReport {
  readonly reportId: string;
  readonly connectorId: string;
  readonly observedAt: string;
  readonly assignments: readonly { readonly targetAccount: string; readonly entitlementRef: string }[];
}

/** Reports still arriving are bounded: one that never completes (its pages lost in a crash) is dropped. */
const MAX_OPEN_REPORTS = 20;

/**
 * Puts a report's pages back together. Pages of one report share a partition, so they arrive in order, but a
 * redelivery may repeat one; the report is complete when every page up to the last one is in.
 */
export class StateReportAssembler {
  private readonly open = new Map<string, { pages: Map<number, StateReportedData>; last?: number }>();

  add(page: StateReportedData): StateReport | undefined {
    const report = this.open.get(page.reportId) ?? { pages: new Map<number, StateReportedData>() };
    this.open.delete(page.reportId);
    this.open.set(page.reportId, report);
    report.pages.set(page.page, page);
    if (page.lastPage) report.last = page.page;
    while (this.open.size > MAX_OPEN_REPORTS) this.open.delete(this.open.keys().next().value as string);
    if (report.last === undefined) return undefined;
    const pages = Array.from({ length: report.last }, (_, i) => report.pages.get(i + 1));
    if (pages.some((candidate) => candidate === undefined)) return undefined;
    this.open.delete(page.reportId);
    const complete = pages as StateReportedData[];
    return {
      reportId: page.reportId,
      connectorId: page.connectorId,
      observedAt: complete[0]!.observedAt,
      assignments: complete.flatMap((candidate) => candidate.assignments),
    };
  }
}

/** Grants whose access is being added or removed right now, or whose removal already failed and alerted. */
const SETTLING: ReadonlySet<GrantStatus> = new Set<GrantStatus>(['requested', 'provisioning', 'deprovisioning', 'irrevocable']);

const keyOf = (account: string, entitlementRef: string): string => `${account}\u0000${entitlementRef}`;

interface Finding {
  readonly kind: DriftDetectedData['kind'];
  readonly targetAccount: string;
  readonly externalRef: string;
  readonly grant?: GrantState;
}

/**
 * Compares what the target holds (at `observedAt`) with the grants. Times on both sides come from the connector
 * (its `observedAt` is read just before the read; `activatedAt`/`revokedAt` are its completion times), so:
 * - an active grant activated before the observation must be in the target, else `missing_in_target`;
 * - an assignment no grant explains is `unexpected_in_target` (access granted outside Grantline), or
 *   `expired_but_present` when its grant was revoked before the observation (access came back or never left);
 * - grants being provisioned or deprovisioned, or revoked only after the observation, are left alone: the report
 *   may have been read on either side of their change. Pure: time and ids come from the report and its cause.
 *
 * Not part of the provisioning decider: it decides nothing about a grant, it compares two sides and reports.
 */
export function reconcile(
  cause: Envelope,
  report: StateReport,
  state: ProvisioningView,
  context: Pick<ProvisioningContext, 'registry' | 'eventId' | 'source'>,
): Envelope[] {
  const observed = Date.parse(report.observedAt);
  const refOf = (grant: GrantState): string | undefined => state.entitlement(grant.entitlementId)?.externalRef;
  const grantsByKey = new Map<string, GrantState[]>();
  for (const grant of state.grantsOfConnector(report.connectorId)) {
    const ref = refOf(grant);
    if (ref === undefined) continue;
    const key = keyOf(grant.targetAccount, ref);
    grantsByKey.set(key, [...(grantsByKey.get(key) ?? []), grant]);
  }
  const actual = new Map(report.assignments.map((assignment) => [keyOf(assignment.targetAccount, assignment.entitlementRef), assignment]));

  const findings: Finding[] = [];
  let grantsExpected = 0;
  for (const [key, grants] of grantsByKey) {
    const live = grants.find((grant) => grant.status === 'active' && grant.activatedAt !== undefined && Date.parse(grant.activatedAt) < observed);
    if (live === undefined) continue;
    grantsExpected += 1;
    if (!actual.has(key)) findings.push({ kind: 'missing_in_target', targetAccount: live.targetAccount, externalRef: refOf(live)!, grant: live });
  }
  for (const [key, assignment] of actual) {
    const grants = grantsByKey.get(key) ?? [];
    if (grants.some((grant) => grant.status === 'active' || SETTLING.has(grant.status))) continue;
    if (grants.some((grant) => grant.status === 'revoked' && (grant.revokedAt === undefined || Date.parse(grant.revokedAt) >= observed))) continue;
    const revoked = grants.filter((grant) => grant.status === 'revoked').sort((a, b) => (a.revokedAt ?? '').localeCompare(b.revokedAt ?? ''));
    const ended = revoked.at(-1) ?? grants.find((grant) => grant.status === 'failed');
    findings.push({
      kind: ended?.status === 'revoked' ? 'expired_but_present' : 'unexpected_in_target',
      targetAccount: assignment.targetAccount,
      externalRef: assignment.entitlementRef,
      ...(ended ? { grant: ended } : {}),
    });
  }

  const factory = provisioningEvents(context);
  const derivation = (type: string, part: string, subject: string) => ({
    // the last page and the finding fix the id: a redelivered report yields byte-identical events
    idParts: ['provisioning', cause.id, type, part],
    cause,
    // what the target held at the observation, not when the last page arrived
    time: report.observedAt,
    subject,
    correlationId: subject,
  });
  const entitlements = state.entitlementsOfConnector(report.connectorId);
  const systemOf = (ref: string): string =>
    entitlements.find((entitlement) => entitlement.externalRef === ref)?.systemId ?? entitlements[0]?.systemId ?? report.connectorId;

  const events: Envelope[] = findings.map((finding) =>
    factory.derive(
      GrantDriftDetected,
      {
        connectorId: report.connectorId,
        systemId: finding.grant?.systemId ?? systemOf(finding.externalRef),
        kind: finding.kind,
        ...(finding.grant ? { grantId: finding.grant.grantId } : {}),
        targetAccount: finding.targetAccount,
        externalRef: finding.externalRef,
        detectedAt: report.observedAt,
        // Detection only: whether to re-grant or revoke is a decision for a person (see the provisioning README).
        remediation: 'report_only',
      },
      // a finding about a grant belongs to its request's story; one without a grant to the reconciliation's
      derivation(GrantDriftDetected.type, keyOf(finding.targetAccount, finding.externalRef), finding.grant?.requestId ?? report.reportId),
    ),
  );
  const count = (kind: DriftDetectedData['kind']): number => findings.filter((finding) => finding.kind === kind).length;
  events.push(
    factory.derive(
      GrantReconciliationCompleted,
      {
        reportId: report.reportId,
        connectorId: report.connectorId,
        observedAt: report.observedAt,
        assignments: actual.size,
        grantsExpected,
        drift: {
          missingInTarget: count('missing_in_target'),
          unexpectedInTarget: count('unexpected_in_target'),
          expiredButPresent: count('expired_but_present'),
        },
      },
      derivation(GrantReconciliationCompleted.type, report.reportId, report.reportId),
    ),
  );
  return events;
}
