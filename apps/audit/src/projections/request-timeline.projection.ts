import type { Actor } from '@grantline/contracts';
import { LIFECYCLE_EVENT_TYPES, hasApplied, insertSorted, requestIdOf, utc, withApplied } from './projection';
import type { AuditEvent, LifecycleEvent, LifecycleEventType, Projection, ProjectionDocument } from './projection';

/**
 * A reconciliation's completion speaks about a whole connector; it has no place in one request's story (nor have
 * identity facts or refused API calls, which are not lifecycle events at all).
 */
type TimelineEventType = Exclude<LifecycleEventType, 'iga.grant.reconciliation-completed.v1'>;
type TimelineEvent = Extract<LifecycleEvent, { type: TimelineEventType }>;

const TIMELINE_EVENT_TYPES = LIFECYCLE_EVENT_TYPES.filter((type): type is TimelineEventType => type !== 'iga.grant.reconciliation-completed.v1');
const TIMELINE_TYPES: ReadonlySet<string> = new Set(TIMELINE_EVENT_TYPES);

function isTimelineEvent(event: AuditEvent): event is TimelineEvent {
  return TIMELINE_TYPES.has(event.type);
}

export type TimelineDetail = string | number | boolean | readonly string[];

export interface TimelineEntry {
  readonly eventId: string;
  readonly type: TimelineEventType;
  /** The event time, UTC. */
  readonly at: string;
  readonly actor: Actor;
  readonly summary: string;
  readonly grantId?: string;
  readonly taskId?: string;
  readonly details: Readonly<Record<string, TimelineDetail>>;
}

export type RequestStatus = 'unknown' | 'submitted' | 'pending_approval' | 'approved' | 'denied' | 'withdrawn' | 'provisioning' | 'active' | 'failed' | 'ended';

export interface RequestTimelineDocument extends ProjectionDocument {
  readonly requestId: string;
  readonly status: RequestStatus;
  readonly entries: readonly TimelineEntry[];
}

// When two events carry the same instant, the lifecycle order breaks the tie (then the event id), so the
// timeline reads the same however the topics were interleaved when it was built.
const PHASE: Record<TimelineEventType, number> = {
  'iga.request.submitted.v2': 0,
  'iga.policy.decision-recorded.v2': 10,
  'iga.approval.task-opened.v1': 20,
  'iga.approval.self-approval-blocked.v1': 25,
  'iga.approval.decision-recorded.v1': 30,
  'iga.approval.escalated.v1': 35,
  'iga.approval.request-approved.v1': 40,
  'iga.approval.request-denied.v1': 40,
  'iga.approval.break-glass-granted.v1': 40,
  'iga.approval.review-opened.v1': 45,
  'iga.grant.created.v1': 50,
  'iga.grant.provisioning-requested.v1': 55,
  'iga.grant.provisioning-failed.v1': 58,
  'iga.grant.activated.v1': 60,
  'iga.grant.credential-issued.v1': 62,
  'iga.request.withdrawn.v1': 65,
  'iga.timer.fired.v2': 70,
  'iga.revocation.requested.v1': 72,
  'iga.grant.deprovisioning-requested.v1': 75,
  'iga.grant.revoked.v1': 80,
  'iga.grant.drift-detected.v1': 85,
};

export function compareEntries(a: TimelineEntry, b: TimelineEntry): number {
  const byTime = Date.parse(a.at) - Date.parse(b.at);
  if (byTime !== 0) return byTime;
  const byPhase = PHASE[a.type] - PHASE[b.type];
  if (byPhase !== 0) return byPhase;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

type Described = Pick<TimelineEntry, 'summary' | 'details'> & { grantId?: string; taskId?: string };

function itemsOf(items: { entitlementIds: string[] } | { accessPackageId: string }): Record<string, TimelineDetail> {
  return 'entitlementIds' in items ? { entitlementIds: items.entitlementIds } : { accessPackageId: items.accessPackageId };
}

/** What the entry says, in words and in the fields an auditor filters on. */
export function describe(event: TimelineEvent): Described {
  switch (event.type) {
    case 'iga.request.submitted.v2': {
      const d = event.data;
      return {
        summary: `${d.requesterId} requested access for ${d.subject.kind} ${d.subject.id}${d.emergency ? ' (break-glass)' : ''}`,
        details: {
          requesterId: d.requesterId,
          subjectId: d.subject.id,
          subjectKind: d.subject.kind,
          ...itemsOf(d.items),
          justification: d.justification,
          channel: d.channel,
          ...(d.duration !== undefined ? { duration: d.duration } : {}),
          ...(d.endsAt !== undefined ? { endsAt: utc(d.endsAt) } : {}),
          ...(d.ticket ? { ticket: `${d.ticket.system}:${d.ticket.id}` } : {}),
          ...(d.emergency ? { incident: `${d.emergency.incidentRef.system}:${d.emergency.incidentRef.id}` } : {}),
        },
      };
    }
    case 'iga.request.withdrawn.v1':
      return {
        summary: `${event.data.withdrawnBy} withdrew the request`,
        details: { withdrawnBy: event.data.withdrawnBy, ...(event.data.reason ? { reason: event.data.reason } : {}) },
      };
    case 'iga.revocation.requested.v1': {
      const d = event.data;
      return {
        summary: `${d.requestedBy} asked to revoke ${'grantId' in d ? `grant ${d.grantId}` : 'every grant of the request'}`,
        details: { revocationId: d.revocationId, requestedBy: d.requestedBy, reason: d.reason },
        ...('grantId' in d ? { grantId: d.grantId } : {}),
      };
    }
    case 'iga.policy.decision-recorded.v2': {
      const d = event.data;
      return {
        summary: `Policy decided ${d.effect}: ${d.reasons.join('; ')}`,
        details: {
          decisionId: d.decisionId,
          effect: d.effect,
          reasons: d.reasons,
          matchedRules: d.matchedRules,
          bundleDigest: d.bundleDigest,
          riskScore: d.risk.score,
          maxDuration: d.constraints.maxDuration,
        },
      };
    }
    case 'iga.approval.task-opened.v1': {
      const d = event.data;
      return {
        summary: `Approval task ${d.taskId} opened for stage ${d.stageId} (quorum ${d.quorum})`,
        details: { stageId: d.stageId, eligibleApproverIds: d.eligibleApproverIds, quorum: d.quorum, dueAt: utc(d.dueAt) },
        taskId: d.taskId,
      };
    }
    case 'iga.approval.decision-recorded.v1': {
      const d = event.data;
      return {
        summary: `${d.approverId} ${d.decision === 'approve' ? 'approved' : 'denied'} stage ${d.stageId}`,
        details: {
          approverId: d.approverId,
          decision: d.decision,
          stageId: d.stageId,
          ...(d.onBehalfOfId ? { onBehalfOfId: d.onBehalfOfId } : {}),
          ...(d.comment ? { comment: d.comment } : {}),
        },
        taskId: d.taskId,
      };
    }
    case 'iga.approval.request-approved.v1': {
      const d = event.data;
      return {
        summary: `Request approved (${d.basis.kind}): ${d.grants.length} grant(s) to create`,
        details: {
          basis: d.basis.kind,
          decisionId: d.basis.decisionId,
          approverIds: d.basis.approvals.map((approval) => approval.approverId),
          grantIds: d.grants.map((grant) => grant.grantId),
        },
      };
    }
    case 'iga.approval.request-denied.v1': {
      const d = event.data;
      return {
        summary: `Request denied (${d.basis}): ${d.reasons.join('; ')}`,
        details: { basis: d.basis, reasons: d.reasons, ...(d.deniedBy ? { deniedBy: d.deniedBy } : {}) },
      };
    }
    case 'iga.approval.escalated.v1': {
      const d = event.data;
      return {
        summary: `Task ${d.taskId} escalated (${d.reason}) to ${d.escalatedToIds.join(', ')}`,
        details: { reason: d.reason, escalatedToIds: d.escalatedToIds, newTaskId: d.newTaskId },
        taskId: d.taskId,
      };
    }
    case 'iga.approval.self-approval-blocked.v1': {
      const d = event.data;
      return {
        summary: `${d.attemptedById} tried to approve their own request (${d.relation}): blocked`,
        details: { attemptedById: d.attemptedById, relation: d.relation, attemptedAt: utc(d.attemptedAt) },
        taskId: d.taskId,
      };
    }
    case 'iga.approval.break-glass-granted.v1': {
      const d = event.data;
      return {
        summary: `Break-glass access granted for incident ${d.incidentRef.system}:${d.incidentRef.id}`,
        details: {
          incident: `${d.incidentRef.system}:${d.incidentRef.id}`,
          reviewDueAt: utc(d.reviewDueAt),
          grantIds: d.grants.map((grant) => grant.grantId),
        },
      };
    }
    case 'iga.approval.review-opened.v1': {
      const d = event.data;
      return {
        summary: `${d.kind} review ${d.reviewId} opened for ${d.reviewerIds.join(', ')}`,
        details: { reviewId: d.reviewId, kind: d.kind, reviewerIds: d.reviewerIds, grantIds: d.grantIds, dueAt: utc(d.dueAt) },
      };
    }
    case 'iga.grant.created.v1': {
      const d = event.data;
      return {
        summary: `Grant created: ${d.entitlementId} for ${d.beneficiaryId} on ${d.systemId}, expires ${utc(d.expiresAt)}`,
        details: {
          entitlementId: d.entitlementId,
          beneficiaryId: d.beneficiaryId,
          systemId: d.systemId,
          connectorId: d.connectorId,
          expiresAt: utc(d.expiresAt),
          breakGlass: d.breakGlass,
        },
        grantId: d.grantId,
      };
    }
    case 'iga.grant.provisioning-requested.v1':
      return {
        summary: `Provisioning sent to ${event.data.connectorId} (attempt ${event.data.attempt})`,
        details: { connectorId: event.data.connectorId, attempt: event.data.attempt },
        grantId: event.data.grantId,
      };
    case 'iga.grant.activated.v1':
      return {
        summary: `Grant active until ${utc(event.data.expiresAt)}`,
        details: {
          activatedAt: utc(event.data.activatedAt),
          expiresAt: utc(event.data.expiresAt),
          ...(event.data.externalId ? { externalId: event.data.externalId } : {}),
        },
        grantId: event.data.grantId,
      };
    case 'iga.grant.provisioning-failed.v1': {
      const d = event.data;
      return {
        summary: `${d.operation} failed${d.terminal ? ' terminally' : ''}: ${d.reason}`,
        details: { operation: d.operation, code: d.code, reason: d.reason, attempts: d.attempts, terminal: d.terminal, retriable: d.retriable },
        grantId: d.grantId,
      };
    }
    case 'iga.grant.deprovisioning-requested.v1':
      return {
        summary: `Deprovisioning sent to ${event.data.connectorId} (${event.data.reason})`,
        details: { connectorId: event.data.connectorId, reason: event.data.reason, attempt: event.data.attempt },
        grantId: event.data.grantId,
      };
    case 'iga.grant.revoked.v1':
      return {
        summary: `Grant revoked (${event.data.reason})`,
        details: { reason: event.data.reason, revokedAt: utc(event.data.revokedAt) },
        grantId: event.data.grantId,
      };
    case 'iga.grant.credential-issued.v1': {
      const d = event.data;
      return {
        summary: `Credential ${d.credentialId} (${d.credentialType}) issued, expires ${utc(d.expiresAt)}`,
        details: { credentialId: d.credentialId, credentialType: d.credentialType, fingerprint: d.fingerprint, expiresAt: utc(d.expiresAt) },
        grantId: d.grantId,
      };
    }
    case 'iga.grant.drift-detected.v1': {
      const d = event.data;
      return {
        summary: `Drift detected on ${d.systemId}: ${d.kind} (${d.remediation})`,
        details: { kind: d.kind, systemId: d.systemId, targetAccount: d.targetAccount, remediation: d.remediation },
        ...(d.grantId !== undefined ? { grantId: d.grantId } : {}),
      };
    }
    case 'iga.timer.fired.v2': {
      const d = event.data;
      return {
        summary: `Timer ${d.kind} fired (due ${utc(d.dueAt)})`,
        details: { timerId: d.timerId, kind: d.kind, dueAt: utc(d.dueAt), firedAt: utc(d.firedAt) },
        ...(d.target.grantId !== undefined ? { grantId: d.target.grantId } : {}),
        ...(d.target.taskId !== undefined ? { taskId: d.target.taskId } : {}),
      };
    }
  }
}

/** The request's status, read off the ordered entries (a fold, so it never depends on arrival order). */
export function statusOf(entries: readonly TimelineEntry[]): RequestStatus {
  let status: RequestStatus = 'unknown';
  const created = new Set<string>();
  const ended = new Set<string>();
  for (const entry of entries) {
    switch (entry.type) {
      case 'iga.request.submitted.v2':
        if (status === 'unknown') status = 'submitted';
        break;
      case 'iga.policy.decision-recorded.v2':
        if (status === 'unknown' || status === 'submitted') {
          const effect = entry.details['effect'];
          status = effect === 'deny' ? 'denied' : effect === 'auto_approve' ? 'approved' : 'pending_approval';
        }
        break;
      case 'iga.approval.request-approved.v1':
      case 'iga.approval.break-glass-granted.v1':
        status = 'approved';
        break;
      case 'iga.approval.request-denied.v1':
        status = 'denied';
        break;
      case 'iga.request.withdrawn.v1':
        if (created.size === 0) status = 'withdrawn';
        break;
      case 'iga.grant.created.v1':
        if (entry.grantId !== undefined) created.add(entry.grantId);
        if (status !== 'active') status = 'provisioning';
        break;
      case 'iga.grant.activated.v1':
        status = 'active';
        break;
      case 'iga.grant.provisioning-failed.v1':
        if (entry.details['terminal'] === true && entry.details['operation'] === 'provision') {
          if (entry.grantId !== undefined) ended.add(entry.grantId);
          if (status !== 'active') status = 'failed';
        }
        break;
      case 'iga.grant.revoked.v1':
        if (entry.grantId !== undefined) ended.add(entry.grantId);
        break;
      case 'iga.revocation.requested.v1':
      case 'iga.approval.task-opened.v1':
      case 'iga.approval.decision-recorded.v1':
      case 'iga.approval.escalated.v1':
      case 'iga.approval.self-approval-blocked.v1':
      case 'iga.approval.review-opened.v1':
      case 'iga.grant.provisioning-requested.v1':
      case 'iga.grant.deprovisioning-requested.v1':
      case 'iga.grant.credential-issued.v1':
      case 'iga.grant.drift-detected.v1':
      case 'iga.timer.fired.v2':
        break;
    }
    if (created.size > 0 && [...created].every((grantId) => ended.has(grantId)) && status !== 'failed') status = 'ended';
  }
  return status;
}

/** Request timeline: every event of one request's chain, ordered, with its actor and time. */
export const requestTimelineProjection: Projection<RequestTimelineDocument> = {
  name: 'request_timeline',
  version: 1,
  handles: TIMELINE_EVENT_TYPES,
  documentIdsOf(event) {
    const requestId = isTimelineEvent(event) ? requestIdOf(event) : undefined;
    return requestId === undefined ? [] : [requestId];
  },
  apply(doc, event, requestId) {
    if ((doc !== undefined && hasApplied(doc, event)) || !isTimelineEvent(event)) {
      return doc ?? { _id: requestId, requestId, status: 'unknown', entries: [], appliedEventIds: [] };
    }
    const described = describe(event);
    const entry: TimelineEntry = {
      eventId: event.id,
      type: event.type,
      at: utc(event.time),
      actor: event.actor,
      summary: described.summary,
      details: described.details,
      ...(described.grantId !== undefined ? { grantId: described.grantId } : {}),
      ...(described.taskId !== undefined ? { taskId: described.taskId } : {}),
    };
    const entries = insertSorted(doc?.entries ?? [], entry, compareEntries);
    return { _id: requestId, requestId, status: statusOf(entries), entries, appliedEventIds: withApplied(doc, event) };
  },
};
