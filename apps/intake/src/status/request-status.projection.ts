import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalTaskOpened,
  GrantActivated,
  GrantCreated,
  GrantProvisioningFailed,
  GrantRevoked,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  RevocationRequested,
  isEvent,
  refOf,
} from '@grantline/contracts';
import type { Envelope, ItsmStatus, RequestChannel, RequestItems, SubjectRef, TicketRef } from '@grantline/contracts';

export type RequestStatus = 'submitted' | 'pending_approval' | 'approved' | 'denied' | 'withdrawn' | 'provisioned' | 'revoked' | 'failed';
export type GrantState = 'pending' | 'active' | 'revoked' | 'failed';

export interface TimelineEntry {
  readonly eventId: string;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly summary: string;
}

/** One request as the intake answers `GET /v1/requests/:id`: its status, grants and timeline. */
export interface RequestStatusView {
  readonly requestId: string;
  readonly status: RequestStatus;
  readonly requesterId: string;
  readonly subject: SubjectRef;
  readonly items: RequestItems;
  readonly channel: RequestChannel;
  readonly ticket?: TicketRef;
  readonly submittedAt: string;
  readonly grants: readonly { grantId: string; entitlementId: string; state: GrantState }[];
  /** Everyone a task of this request was ever routed to or decided by: they may read it. */
  readonly approverIds?: readonly string[];
  readonly timeline: readonly TimelineEntry[];
}

const MAX_APPROVERS = 200;
const withApprovers = (view: RequestStatusView, ids: readonly string[]): readonly string[] =>
  [...new Set([...(view.approverIds ?? []), ...ids])].sort().slice(0, MAX_APPROVERS);

/** The projection's whole answer to one event: the new view, and what an upstream ticket should be told. */
export interface Evolution {
  readonly view: RequestStatusView;
  readonly ticketStatus?: { readonly status: ItsmStatus; readonly reasons: readonly string[] };
}

/** Every event type the projection evolves a view with; only these wait (are parked) for their request. */
export const PROJECTED_EVENT_TYPES = [
  'iga.request.submitted.v2',
  'iga.request.withdrawn.v1',
  'iga.revocation.requested.v1',
  'iga.policy.decision-recorded.v2',
  'iga.approval.task-opened.v1',
  'iga.approval.decision-recorded.v1',
  'iga.approval.request-approved.v1',
  'iga.approval.request-denied.v1',
  'iga.approval.break-glass-granted.v1',
  'iga.grant.created.v1',
  'iga.grant.activated.v1',
  'iga.grant.revoked.v1',
  'iga.grant.provisioning-failed.v1',
] as const;

export function isProjected(event: Envelope): boolean {
  return (PROJECTED_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** The grants an event attaches to its request: so parked events about those grants can be found before it is applied. */
export function grantsAttachedBy(event: Envelope): string[] {
  if (isEvent(event, ApprovalRequestApproved) || isEvent(event, ApprovalBreakGlassGranted)) return event.data.grants.map((g) => g.grantId);
  if (isEvent(event, GrantCreated)) return [event.data.grantId];
  return [];
}

const MAX_TIMELINE = 500;
const FINAL: readonly RequestStatus[] = ['denied', 'withdrawn', 'revoked'];

/** Which request an event concerns, when the event says so itself (grant events other than `created` only name the grant). */
export const requestIdOf = (event: Envelope): string | undefined => refOf(event, 'requestId');
export const grantIdOf = (event: Envelope): string | undefined => refOf(event, 'grantId');

const ITSM_STATUS: Partial<Record<RequestStatus, ItsmStatus>> = {
  pending_approval: 'pending_approval',
  approved: 'approved',
  denied: 'denied',
  provisioned: 'provisioned',
  revoked: 'revoked',
  failed: 'failed',
};

function withGrants(view: RequestStatusView, grants: readonly { grantId: string; entitlementId: string }[]): RequestStatusView['grants'] {
  const known = new Map(view.grants.map((g) => [g.grantId, g]));
  for (const { grantId, entitlementId } of grants) if (!known.has(grantId)) known.set(grantId, { grantId, entitlementId, state: 'pending' });
  return [...known.values()];
}

function setGrant(view: RequestStatusView, grantId: string, state: GrantState): RequestStatusView['grants'] {
  return view.grants.map((grant) => (grant.grantId === grantId ? { ...grant, state } : grant));
}

/** A request is provisioned when every grant is active, revoked when every grant has ended. */
function statusFromGrants(view: RequestStatusView, grants: RequestStatusView['grants']): RequestStatus {
  if (grants.length === 0) return view.status;
  if (grants.some((g) => g.state === 'failed')) return 'failed';
  if (grants.every((g) => g.state === 'revoked')) return 'revoked';
  if (grants.every((g) => g.state === 'active' || g.state === 'revoked')) return grants.some((g) => g.state === 'active') ? 'provisioned' : view.status;
  return view.status;
}

/**
 * Pure: the view after one event, or undefined when the event changes nothing (unknown request, or already
 * applied — a redelivered event is recognised by its id in the timeline). The store parks events of an unknown
 * request or grant until the view exists (see `parked-event.drain.ts`).
 */
export function evolveRequestStatus(view: RequestStatusView | undefined, event: Envelope): Evolution | undefined {
  if (view?.timeline.some((entry) => entry.eventId === event.id)) return undefined;
  const entry = (summary: string): TimelineEntry => ({
    eventId: event.id,
    type: event.type,
    at: event.time,
    actor: `${event.actor.kind}:${event.actor.id}`,
    summary,
  });

  if (isEvent(event, RequestSubmitted)) {
    if (view) return undefined;
    const data = event.data;
    const what = 'entitlementIds' in data.items ? data.items.entitlementIds.join(', ') : `package ${data.items.accessPackageId}`;
    return {
      view: {
        requestId: data.requestId,
        status: 'submitted',
        requesterId: data.requesterId,
        subject: data.subject,
        items: data.items,
        channel: data.channel,
        ...(data.ticket === undefined ? {} : { ticket: data.ticket }),
        submittedAt: event.time,
        grants: [],
        timeline: [entry(`${data.requesterId} asked for ${what} for ${data.subject.kind} ${data.subject.id}${data.emergency ? ' (break-glass)' : ''}`)],
      },
      ticketStatus: { status: 'received', reasons: [] },
    };
  }
  if (!view) return undefined;

  let status = view.status;
  let grants = view.grants;
  let approverIds = view.approverIds;
  let summary: string;
  const reasons: string[] = [];
  if (isEvent(event, RequestWithdrawn)) {
    if (!FINAL.includes(status)) status = 'withdrawn';
    summary = `withdrawn by ${event.data.withdrawnBy}${event.data.reason ? `: ${event.data.reason}` : ''}`;
  } else if (isEvent(event, RevocationRequested)) {
    summary = `revocation requested by ${event.data.requestedBy}: ${event.data.reason}`;
  } else if (isEvent(event, PolicyDecisionRecorded)) {
    const effect = event.data.effect;
    if (status === 'submitted') status = effect === 'deny' ? 'denied' : effect === 'auto_approve' ? 'approved' : 'pending_approval';
    reasons.push(...event.data.reasons);
    summary = `policy: ${effect.replace('_', ' ')} (${event.data.reasons.join('; ')})`;
  } else if (isEvent(event, ApprovalTaskOpened)) {
    approverIds = withApprovers(view, event.data.eligibleApproverIds);
    summary = `approval task ${event.data.taskId} opened for stage ${event.data.stageId}`;
  } else if (isEvent(event, ApprovalDecisionRecorded)) {
    approverIds = withApprovers(view, [event.data.approverId]);
    summary = `${event.data.approverId} decided ${event.data.decision} at stage ${event.data.stageId}${event.data.comment ? `: ${event.data.comment}` : ''}`;
  } else if (isEvent(event, ApprovalRequestApproved)) {
    if (status === 'submitted' || status === 'pending_approval') status = 'approved';
    grants = withGrants(view, event.data.grants);
    summary = `approved (${event.data.basis.kind.replace('_', ' ')})`;
  } else if (isEvent(event, ApprovalBreakGlassGranted)) {
    if (status === 'submitted' || status === 'pending_approval') status = 'approved';
    grants = withGrants(view, event.data.grants);
    summary = `break-glass granted for incident ${event.data.incidentRef.id}; review due ${event.data.reviewDueAt}`;
  } else if (isEvent(event, ApprovalRequestDenied)) {
    if (!FINAL.includes(status)) status = 'denied';
    reasons.push(...event.data.reasons);
    summary = `denied (${event.data.basis}): ${event.data.reasons.join('; ')}`;
  } else if (isEvent(event, GrantCreated)) {
    grants = withGrants(view, [{ grantId: event.data.grantId, entitlementId: event.data.entitlementId }]);
    summary = `grant ${event.data.grantId} created, expires ${event.data.expiresAt}`;
  } else if (isEvent(event, GrantActivated)) {
    grants = setGrant(view, event.data.grantId, 'active');
    status = statusFromGrants(view, grants);
    summary = `grant ${event.data.grantId} active until ${event.data.expiresAt}`;
  } else if (isEvent(event, GrantRevoked)) {
    grants = setGrant(view, event.data.grantId, 'revoked');
    status = statusFromGrants(view, grants);
    summary = `grant ${event.data.grantId} revoked (${event.data.reason})`;
  } else if (isEvent(event, GrantProvisioningFailed)) {
    if (event.data.terminal) {
      grants = setGrant(view, event.data.grantId, 'failed');
      status = statusFromGrants(view, grants);
      reasons.push(event.data.reason);
    }
    summary = `${event.data.operation} of grant ${event.data.grantId} failed${event.data.terminal ? ' for good' : ', retrying'}: ${event.data.reason}`;
  } else {
    return undefined;
  }

  const next: RequestStatusView = {
    ...view,
    status,
    grants,
    ...(approverIds === undefined ? {} : { approverIds }),
    timeline: [...view.timeline, entry(summary)].slice(-MAX_TIMELINE),
  };
  const ticketStatus = status !== view.status ? ITSM_STATUS[status] : undefined;
  return { view: next, ...(ticketStatus === undefined ? {} : { ticketStatus: { status: ticketStatus, reasons } }) };
}
