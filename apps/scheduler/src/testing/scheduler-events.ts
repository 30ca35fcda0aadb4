import {
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalTaskOpened,
  GrantActivated,
  GrantCreated,
  GrantRevoked,
  registry as catalogue,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition, EventRegistry } from '@grantline/contracts';

/**
 * Builders of the events the scheduler reacts to, for specs: valid by construction (they go through the registry's
 * encode), with ids that are unique unless the spec passes one (to deliver the same event twice).
 */
export function schedulerEvents(events: EventRegistry = catalogue) {
  let counter = 0;
  const build = <T extends EventDefinition>(def: T, data: DataOf<T>, subject: string, options: { id?: string; time?: string } = {}): Envelope => {
    counter += 1;
    return events.encode(def, data, {
      id: options.id ?? `spec-${def.name}-${counter}`,
      source: 'grantline/scheduler-spec',
      time: options.time ?? '2025-01-01T00:00:00.000Z',
      subject,
      correlationid: subject,
      actor: { kind: 'service', id: 'scheduler-spec' },
    });
  };

  return {
    grantCreated: (grantId: string, requestId: string, expiresAt: string, options?: { id?: string }) =>
      build(
        GrantCreated,
        {
          grantId,
          requestId,
          beneficiaryId: 'svc-orders-exporter',
          entitlementId: 'ent-pg-orders-read',
          systemId: 'pg-orders',
          connectorId: 'postgres-orders',
          targetAccount: 'svc_orders_exporter',
          expiresAt,
          breakGlass: false,
          decisionId: `dec-${requestId}`,
        },
        requestId,
        options,
      ),
    grantActivated: (grantId: string, requestId: string, expiresAt: string, options?: { id?: string }) =>
      build(GrantActivated, { grantId, activatedAt: '2025-01-01T00:00:01.000Z', expiresAt }, requestId, options),
    grantRevoked: (grantId: string, requestId: string, options?: { id?: string }) =>
      build(GrantRevoked, { grantId, reason: 'revocation', revokedAt: '2025-01-01T00:00:02.000Z' }, requestId, options),
    taskOpened: (taskId: string, requestId: string, dueAt: string, quorum = 1, options?: { id?: string }) =>
      build(ApprovalTaskOpened, { taskId, requestId, stageId: 'owner', eligibleApproverIds: ['carol', 'dave', 'erin'], quorum, dueAt }, requestId, options),
    decision: (taskId: string, requestId: string, approverId: string, decision: 'approve' | 'deny', options?: { id?: string }) =>
      build(ApprovalDecisionRecorded, { taskId, requestId, stageId: 'owner', approverId, decision }, requestId, options),
    requestApproved: (
      requestId: string,
      grants: { grantId: string; expiresAt: string }[],
      recertificationEvery?: string,
      options?: { id?: string; time?: string },
    ) =>
      build(
        ApprovalRequestApproved,
        {
          requestId,
          beneficiaryId: 'svc-orders-exporter',
          grants: grants.map((grant) => ({ ...grant, entitlementId: 'ent-pg-orders-read' })),
          basis: { kind: 'auto_approved', decisionId: `dec-${requestId}`, approvals: [] },
          ...(recertificationEvery !== undefined ? { recertificationEvery } : {}),
        },
        requestId,
        options,
      ),
    requestDenied: (requestId: string, options?: { id?: string }) =>
      build(ApprovalRequestDenied, { requestId, basis: 'approver', deniedBy: 'carol', reasons: ['not needed'] }, requestId, options),
    escalated: (taskId: string, requestId: string, newTaskId: string, options?: { id?: string }) =>
      build(ApprovalEscalated, { taskId, requestId, stageId: 'owner', reason: 'deadline_passed', escalatedToIds: ['erin'], newTaskId }, requestId, options),
    reviewOpened: (reviewId: string, requestId: string, dueAt: string, kind: 'break_glass_post_incident' | 'recertification' = 'break_glass_post_incident') =>
      build(ApprovalReviewOpened, { reviewId, kind, requestId, grantIds: [`${requestId}:ent`], reviewerIds: ['erin'], dueAt }, requestId),
  };
}
