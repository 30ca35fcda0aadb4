import type { Actor, DecisionConstraints, DeprovisionReason, PolicyEffect, RequestChannel, SodConflict, SubjectRef, TicketRef } from '@grantline/contracts';
import { compareStrings, hasApplied, insertSorted, requestIdOf, utc, withApplied } from './projection';
import type { AuditEvent, AuditEventType, Projection, ProjectionDocument } from './projection';

export interface ExplainedRequest {
  readonly eventId: string;
  readonly submittedAt: string;
  readonly submittedBy: Actor;
  readonly requesterId: string;
  readonly subject: SubjectRef;
  readonly entitlementIds?: readonly string[];
  readonly accessPackageId?: string;
  readonly justification: string;
  readonly ticket?: TicketRef;
  readonly duration?: string;
  readonly endsAt?: string;
  readonly breakGlass: boolean;
  readonly incident?: TicketRef;
  readonly channel: RequestChannel;
}

export interface ExplainedDecision {
  readonly eventId: string;
  readonly decisionId: string;
  readonly decidedAt: string;
  readonly effect: PolicyEffect;
  readonly reasons: readonly string[];
  readonly matchedRules: readonly string[];
  readonly bundleDigest: string;
  readonly catalogDigest?: string;
  readonly engine?: string;
  readonly riskScore: number;
  readonly riskFactors: readonly string[];
  readonly sodConflicts: readonly SodConflict[];
  readonly constraints: DecisionConstraints;
  readonly stageIds: readonly string[];
}

export interface ExplainedApproval {
  readonly eventId: string;
  readonly taskId: string;
  readonly stageId: string;
  readonly approverId: string;
  readonly onBehalfOfId?: string;
  readonly decision: 'approve' | 'deny';
  readonly comment?: string;
  readonly decidedAt: string;
}

export interface ExplainedOutcome {
  readonly eventId: string;
  readonly kind: 'approved' | 'auto_approved' | 'break_glass' | 'denied';
  readonly at: string;
  readonly decisionId?: string;
  readonly reasons?: readonly string[];
  readonly deniedBy?: string;
  readonly reviewDueAt?: string;
}

export interface ExplainedRevocationRequest {
  readonly eventId: string;
  readonly revocationId: string;
  /** Absent when the whole request was to be revoked. */
  readonly grantId?: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly at: string;
}

export interface ExplainedWithdrawal {
  readonly eventId: string;
  readonly withdrawnBy: string;
  readonly reason?: string;
  readonly at: string;
}

export interface ExplainedGrant {
  readonly grantId: string;
  readonly entitlementId?: string;
  readonly beneficiaryId?: string;
  readonly systemId?: string;
  readonly connectorId?: string;
  readonly targetAccount?: string;
  readonly breakGlass?: boolean;
  readonly createdAt?: string;
  readonly plannedExpiresAt?: string;
  readonly provisioningRequestedAt?: string;
  readonly provisioningAttempts?: number;
  readonly activatedAt?: string;
  readonly expiresAt?: string;
  readonly externalId?: string;
  readonly failures: readonly {
    readonly eventId: string;
    readonly operation: string;
    readonly code: string;
    readonly reason: string;
    readonly terminal: boolean;
    readonly at: string;
  }[];
  readonly credential?: {
    readonly credentialId: string;
    readonly type: string;
    readonly fingerprint: string;
    readonly issuedAt: string;
    readonly expiresAt: string;
  };
  readonly expiryTimerFiredAt?: string;
  readonly deprovisioningRequestedAt?: string;
  readonly deprovisionReason?: DeprovisionReason;
  readonly revokedAt?: string;
  readonly revokeReason?: DeprovisionReason;
}

/**
 * One document per request: the request, its decision, approvals and outcome are shared by every grant it
 * produced, so they are stored once and `grantIds` finds the document from a grant.
 */
export interface GrantExplanationDocument extends ProjectionDocument {
  readonly requestId: string;
  readonly grantIds: readonly string[];
  readonly request?: ExplainedRequest;
  readonly decision?: ExplainedDecision;
  readonly approvals: readonly ExplainedApproval[];
  readonly selfApprovalAttempts: readonly { readonly eventId: string; readonly attemptedById: string; readonly relation: string; readonly at: string }[];
  readonly outcome?: ExplainedOutcome;
  readonly withdrawal?: ExplainedWithdrawal;
  readonly revocationRequests: readonly ExplainedRevocationRequest[];
  readonly grants: readonly ExplainedGrant[];
}

const EXPLANATION_EVENTS = [
  'iga.request.submitted.v2',
  'iga.request.withdrawn.v1',
  'iga.revocation.requested.v1',
  'iga.policy.decision-recorded.v2',
  'iga.approval.decision-recorded.v1',
  'iga.approval.self-approval-blocked.v1',
  'iga.approval.request-approved.v1',
  'iga.approval.request-denied.v1',
  'iga.approval.break-glass-granted.v1',
  'iga.grant.created.v1',
  'iga.grant.provisioning-requested.v1',
  'iga.grant.activated.v1',
  'iga.grant.provisioning-failed.v1',
  'iga.grant.deprovisioning-requested.v1',
  'iga.grant.revoked.v1',
  'iga.grant.credential-issued.v1',
  'iga.timer.fired.v2',
] as const satisfies readonly AuditEventType[];

type ExplanationEvent = Extract<AuditEvent, { type: (typeof EXPLANATION_EVENTS)[number] }>;
const EXPLANATION_EVENT_TYPES: ReadonlySet<string> = new Set(EXPLANATION_EVENTS);

function isExplanationEvent(event: AuditEvent): event is ExplanationEvent {
  if (!EXPLANATION_EVENT_TYPES.has(event.type)) return false;
  // Only expiry timers belong to a grant's story; approval deadlines show up as escalations or denials.
  return event.type !== 'iga.timer.fired.v2' || (event.data.kind === 'grant_expiry' && event.data.target.grantId !== undefined);
}

const byTimeThenId = <T extends { at: string; eventId: string }>(a: T, b: T): number =>
  Date.parse(a.at) - Date.parse(b.at) || compareStrings(a.eventId, b.eventId);

function emptyDocument(requestId: string): GrantExplanationDocument {
  return { _id: requestId, requestId, grantIds: [], approvals: [], selfApprovalAttempts: [], revocationRequests: [], grants: [], appliedEventIds: [] };
}

/** The grant entry, created on first mention (a grant event may be read before the request's own events). */
function updateGrant(doc: GrantExplanationDocument, grantId: string, change: (grant: ExplainedGrant) => ExplainedGrant): GrantExplanationDocument {
  const existing = doc.grants.find((grant) => grant.grantId === grantId);
  const updated = change(existing ?? { grantId, failures: [] });
  const others = doc.grants.filter((grant) => grant.grantId !== grantId);
  const grants = insertSorted(others, updated, (a, b) => compareStrings(a.grantId, b.grantId));
  const grantIds = doc.grantIds.includes(grantId) ? doc.grantIds : insertSorted(doc.grantIds, grantId, compareStrings);
  return { ...doc, grants, grantIds };
}

/** The grants an approval promises, known before provisioning creates them. */
function withPlannedGrants(
  doc: GrantExplanationDocument,
  planned: readonly { grantId: string; entitlementId: string; expiresAt: string }[],
): GrantExplanationDocument {
  return planned.reduce(
    (next, plan) =>
      updateGrant(next, plan.grantId, (grant) => ({
        ...grant,
        entitlementId: grant.entitlementId ?? plan.entitlementId,
        plannedExpiresAt: grant.plannedExpiresAt ?? utc(plan.expiresAt),
      })),
    doc,
  );
}

/** Keeps the earlier of two instants: retries and duplicates must not move "when it started". */
function earliest(current: string | undefined, candidate: string): string {
  return current === undefined || Date.parse(candidate) < Date.parse(current) ? candidate : current;
}

function applyEvent(doc: GrantExplanationDocument, event: ExplanationEvent): GrantExplanationDocument {
  const at = utc(event.time);
  switch (event.type) {
    case 'iga.request.submitted.v2': {
      const d = event.data;
      const request: ExplainedRequest = {
        eventId: event.id,
        submittedAt: at,
        submittedBy: event.actor,
        requesterId: d.requesterId,
        subject: d.subject,
        ...('entitlementIds' in d.items ? { entitlementIds: d.items.entitlementIds } : { accessPackageId: d.items.accessPackageId }),
        justification: d.justification,
        ...(d.ticket ? { ticket: d.ticket } : {}),
        ...(d.duration !== undefined ? { duration: d.duration } : {}),
        ...(d.endsAt !== undefined ? { endsAt: utc(d.endsAt) } : {}),
        breakGlass: d.emergency !== undefined,
        ...(d.emergency ? { incident: d.emergency.incidentRef } : {}),
        channel: d.channel,
      };
      return { ...doc, request };
    }
    case 'iga.policy.decision-recorded.v2': {
      const d = event.data;
      const decision: ExplainedDecision = {
        eventId: event.id,
        decisionId: d.decisionId,
        decidedAt: at,
        effect: d.effect,
        reasons: d.reasons,
        matchedRules: d.matchedRules,
        bundleDigest: d.bundleDigest,
        ...(d.catalogDigest !== undefined ? { catalogDigest: d.catalogDigest } : {}),
        ...(d.engine !== undefined ? { engine: d.engine } : {}),
        riskScore: d.risk.score,
        riskFactors: d.risk.factors.map((factor) => factor.id),
        sodConflicts: d.sodConflicts,
        constraints: d.constraints,
        stageIds: d.route?.stages.map((stage) => stage.id) ?? [],
      };
      return { ...doc, decision };
    }
    case 'iga.approval.decision-recorded.v1': {
      const d = event.data;
      const approval: ExplainedApproval = {
        eventId: event.id,
        taskId: d.taskId,
        stageId: d.stageId,
        approverId: d.approverId,
        ...(d.onBehalfOfId !== undefined ? { onBehalfOfId: d.onBehalfOfId } : {}),
        decision: d.decision,
        ...(d.comment !== undefined ? { comment: d.comment } : {}),
        decidedAt: at,
      };
      const approvals = insertSorted(
        doc.approvals,
        approval,
        (a, b) => Date.parse(a.decidedAt) - Date.parse(b.decidedAt) || compareStrings(a.eventId, b.eventId),
      );
      return { ...doc, approvals };
    }
    case 'iga.approval.self-approval-blocked.v1': {
      const attempt = { eventId: event.id, attemptedById: event.data.attemptedById, relation: event.data.relation, at: utc(event.data.attemptedAt) };
      return { ...doc, selfApprovalAttempts: insertSorted(doc.selfApprovalAttempts, attempt, byTimeThenId) };
    }
    case 'iga.approval.request-approved.v1': {
      const d = event.data;
      const outcome: ExplainedOutcome = {
        eventId: event.id,
        kind: d.basis.kind === 'approvals' ? 'approved' : d.basis.kind,
        at,
        decisionId: d.basis.decisionId,
      };
      return withPlannedGrants({ ...doc, outcome }, d.grants);
    }
    case 'iga.approval.break-glass-granted.v1': {
      const d = event.data;
      const outcome: ExplainedOutcome = { eventId: event.id, kind: 'break_glass', at, decisionId: d.decisionId, reviewDueAt: utc(d.reviewDueAt) };
      return withPlannedGrants({ ...doc, outcome }, d.grants);
    }
    case 'iga.approval.request-denied.v1': {
      const d = event.data;
      const outcome: ExplainedOutcome = {
        eventId: event.id,
        kind: 'denied',
        at,
        reasons: d.reasons,
        ...(d.decisionId !== undefined ? { decisionId: d.decisionId } : {}),
        ...(d.deniedBy !== undefined ? { deniedBy: d.deniedBy } : {}),
      };
      return { ...doc, outcome };
    }
    case 'iga.request.withdrawn.v1':
      return {
        ...doc,
        withdrawal: { eventId: event.id, withdrawnBy: event.data.withdrawnBy, ...(event.data.reason ? { reason: event.data.reason } : {}), at },
      };
    case 'iga.revocation.requested.v1': {
      const d = event.data;
      const revocation: ExplainedRevocationRequest = {
        eventId: event.id,
        revocationId: d.revocationId,
        ...('grantId' in d ? { grantId: d.grantId } : {}),
        requestedBy: d.requestedBy,
        reason: d.reason,
        at,
      };
      return { ...doc, revocationRequests: insertSorted(doc.revocationRequests, revocation, byTimeThenId) };
    }
    case 'iga.grant.created.v1': {
      const d = event.data;
      return updateGrant(doc, d.grantId, (grant) => ({
        ...grant,
        entitlementId: d.entitlementId,
        beneficiaryId: d.beneficiaryId,
        systemId: d.systemId,
        connectorId: d.connectorId,
        targetAccount: d.targetAccount,
        breakGlass: d.breakGlass,
        createdAt: at,
        plannedExpiresAt: utc(d.expiresAt),
      }));
    }
    case 'iga.grant.provisioning-requested.v1':
      return updateGrant(doc, event.data.grantId, (grant) => ({
        ...grant,
        connectorId: grant.connectorId ?? event.data.connectorId,
        provisioningRequestedAt: earliest(grant.provisioningRequestedAt, at),
        provisioningAttempts: Math.max(grant.provisioningAttempts ?? 0, event.data.attempt),
      }));
    case 'iga.grant.activated.v1':
      return updateGrant(doc, event.data.grantId, (grant) => ({
        ...grant,
        activatedAt: utc(event.data.activatedAt),
        expiresAt: utc(event.data.expiresAt),
        ...(event.data.externalId !== undefined ? { externalId: event.data.externalId } : {}),
      }));
    case 'iga.grant.provisioning-failed.v1': {
      const d = event.data;
      const failure = { eventId: event.id, operation: d.operation, code: d.code, reason: d.reason, terminal: d.terminal, at };
      return updateGrant(doc, d.grantId, (grant) => ({ ...grant, failures: insertSorted(grant.failures, failure, byTimeThenId) }));
    }
    case 'iga.grant.deprovisioning-requested.v1':
      return updateGrant(doc, event.data.grantId, (grant) => {
        const first = grant.deprovisioningRequestedAt === undefined || Date.parse(at) < Date.parse(grant.deprovisioningRequestedAt);
        return first ? { ...grant, deprovisioningRequestedAt: at, deprovisionReason: event.data.reason } : grant;
      });
    case 'iga.grant.revoked.v1':
      return updateGrant(doc, event.data.grantId, (grant) => ({
        ...grant,
        revokedAt: utc(event.data.revokedAt),
        revokeReason: event.data.reason,
      }));
    case 'iga.grant.credential-issued.v1': {
      const d = event.data;
      return updateGrant(doc, d.grantId, (grant) => ({
        ...grant,
        credential: {
          credentialId: d.credentialId,
          type: d.credentialType,
          fingerprint: d.fingerprint,
          issuedAt: utc(d.issuedAt),
          expiresAt: utc(d.expiresAt),
        },
      }));
    }
    case 'iga.timer.fired.v2': {
      const grantId = event.data.target.grantId;
      if (grantId === undefined) return doc;
      const firedAt = utc(event.data.firedAt);
      return updateGrant(doc, grantId, (grant) => ({ ...grant, expiryTimerFiredAt: earliest(grant.expiryTimerFiredAt, firedAt) }));
    }
  }
}

/** Explain a grant: request → decision → approvals → provisioning → expiry or revocation. */
export const grantExplanationProjection: Projection<GrantExplanationDocument> = {
  name: 'grant_explanation',
  version: 1,
  handles: EXPLANATION_EVENTS,
  documentIdsOf(event) {
    if (!isExplanationEvent(event)) return [];
    const requestId = requestIdOf(event);
    return requestId === undefined ? [] : [requestId];
  },
  apply(doc, event, requestId) {
    if ((doc !== undefined && hasApplied(doc, event)) || !isExplanationEvent(event)) return doc ?? emptyDocument(requestId);
    const next = applyEvent(doc ?? emptyDocument(requestId), event);
    return { ...next, appliedEventIds: withApplied(doc, event) };
  },
};
