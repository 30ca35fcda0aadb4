import {
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  GrantActivated,
  GrantCreated,
  GrantDeprovisioningRequested,
  GrantProvisioningRequested,
  GrantRevoked,
  PolicyDecisionRecorded,
  RequestSubmitted,
  TimerFired,
  registry,
} from '@grantline/contracts';
import type { Actor, Envelope, EventDefinition, SubjectRef, TopicName } from '@grantline/contracts';
import { toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';

export const BUNDLE_DIGEST = 'a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

export interface LifecycleOptions {
  readonly requestId?: string;
  readonly start?: string;
  readonly subjectId?: string;
  /** The beneficiary's kind; a service account unless the spec is about a person. */
  readonly subjectKind?: SubjectRef['kind'];
  readonly entitlementId?: string;
}

export interface PlacedEvent {
  readonly topic: TopicName;
  readonly event: AuditEvent;
}

const ALICE: Actor = { kind: 'user', id: 'alice', name: 'Alice Example' };
const BOB: Actor = { kind: 'user', id: 'bob' };

/**
 * One governed request, end to end: submitted → policy asks for approval → a self-approval attempt is blocked
 * → the owner approves → grant created, provisioned, active → expiry timer → deprovisioned → revoked.
 */
export function lifecycleEvents(options: LifecycleOptions = {}): PlacedEvent[] {
  const requestId = options.requestId ?? 'req-0001';
  const subjectId = options.subjectId ?? 'svc-orders-exporter';
  const entitlementId = options.entitlementId ?? 'ent-pg-orders-read';
  const grantId = `${requestId}:${entitlementId}`;
  const start = Date.parse(options.start ?? '2025-03-01T09:00:00.000Z');
  const minute = (n: number): string => new Date(start + n * 60_000).toISOString();
  const expiresAt = minute(8 * 60);
  let sequence = 0;

  function place<TData>(def: EventDefinition<string, TData>, data: TData, at: number, actor: Actor): PlacedEvent {
    sequence += 1;
    const envelope: Envelope = registry.encode(def, data, {
      id: `${requestId}/evt-${String(sequence).padStart(2, '0')}`,
      source: 'grantline/audit-spec',
      time: minute(at),
      subject: requestId,
      correlationid: requestId,
      actor,
    });
    const event = toAuditEvent(envelope);
    if (event === undefined) throw new Error(`${def.type} is not an audit event`);
    return { topic: def.topic, event };
  }

  const system: Actor = { kind: 'service', id: 'provisioning' };
  return [
    place(
      RequestSubmitted,
      {
        requestId,
        requesterId: 'alice',
        subject: { id: subjectId, kind: options.subjectKind ?? 'service_account' },
        items: { entitlementIds: [entitlementId] },
        justification: 'Nightly export job needs read access to orders',
        ticket: { system: 'jira', id: 'OPS-123' },
        duration: 'PT8H',
        channel: 'api',
      },
      0,
      ALICE,
    ),
    place(
      PolicyDecisionRecorded,
      {
        decisionId: `${requestId}:decision`,
        requestId,
        effect: 'require_approval',
        route: { stages: [{ id: 'owner', approvers: [{ resolver: 'nhi_owner', resolvedIdentityIds: ['bob'] }], quorum: 1 }] },
        constraints: { maxDuration: 'PT24H', breakGlassAllowed: false },
        risk: { score: 40, factors: [{ id: 'nhi', weight: 40, description: 'Non-human identity' }] },
        sodConflicts: [],
        reasons: ['Service accounts need their owner of record to approve'],
        matchedRules: ['nhi-owner-approval'],
        recordOnly: [],
        engine: 'cel',
        bundleDigest: BUNDLE_DIGEST,
        inputSnapshot: { requestId },
        evaluation: { outcome: 'recorded_before_v2' },
      },
      1,
      { kind: 'service', id: 'policy' },
    ),
    place(
      ApprovalTaskOpened,
      { taskId: `${requestId}:task-1`, requestId, stageId: 'owner', eligibleApproverIds: ['bob'], quorum: 1, dueAt: minute(60 * 24) },
      2,
      { kind: 'service', id: 'approval' },
    ),
    place(
      ApprovalSelfApprovalBlocked,
      { taskId: `${requestId}:task-1`, requestId, attemptedById: 'alice', relation: 'requester', attemptedAt: minute(3) },
      3,
      ALICE,
    ),
    place(
      ApprovalDecisionRecorded,
      { taskId: `${requestId}:task-1`, requestId, stageId: 'owner', approverId: 'bob', decision: 'approve', comment: 'Matches the export runbook' },
      4,
      BOB,
    ),
    place(
      ApprovalRequestApproved,
      {
        requestId,
        beneficiaryId: subjectId,
        grants: [{ grantId, entitlementId, expiresAt }],
        basis: {
          kind: 'approvals',
          decisionId: `${requestId}:decision`,
          approvals: [{ taskId: `${requestId}:task-1`, stageId: 'owner', approverId: 'bob', decidedAt: minute(4) }],
        },
      },
      4,
      { kind: 'service', id: 'approval' },
    ),
    place(
      GrantCreated,
      {
        grantId,
        requestId,
        beneficiaryId: subjectId,
        entitlementId,
        systemId: 'pg-orders',
        connectorId: 'pg-main',
        targetAccount: 'svc_orders_exporter',
        expiresAt,
        breakGlass: false,
        decisionId: `${requestId}:decision`,
      },
      5,
      system,
    ),
    place(GrantProvisioningRequested, { grantId, connectorId: 'pg-main', idempotencyKey: `${grantId}:provision`, attempt: 1 }, 5, system),
    place(GrantActivated, { grantId, activatedAt: minute(6), expiresAt, externalId: 'pg_role_grant:svc_orders_exporter:orders_read' }, 6, system),
    place(TimerFired, { timerId: `grant_expiry:${grantId}`, kind: 'grant_expiry', dueAt: expiresAt, firedAt: expiresAt, target: { grantId } }, 8 * 60, {
      kind: 'service',
      id: 'scheduler',
    }),
    place(
      GrantDeprovisioningRequested,
      { grantId, connectorId: 'pg-main', reason: 'expiry', idempotencyKey: `${grantId}:deprovision`, attempt: 1, triggeredBy: `grant_expiry:${grantId}` },
      8 * 60,
      system,
    ),
    place(GrantRevoked, { grantId, reason: 'expiry', revokedAt: minute(8 * 60 + 1) }, 8 * 60 + 1, system),
  ];
}

/** The id of the one grant `lifecycleEvents(options)` creates. */
export function grantIdOfLifecycle(options: LifecycleOptions = {}): string {
  return `${options.requestId ?? 'req-0001'}:${options.entitlementId ?? 'ent-pg-orders-read'}`;
}
