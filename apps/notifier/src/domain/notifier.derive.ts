import { ApprovalBreakGlassGranted, ApprovalReviewOpened, GrantDriftDetected, GrantProvisioningFailed, NotificationRequested, idempotencyKeyOf, isEvent } from '@grantline/contracts';
import type { Actor, DriftDetectedData, Envelope, EventRegistry, GrantOperation, NotificationRequestedData } from '@grantline/contracts';
import { driftKeyOf } from './notifier.state';
import type { NotifierState } from './notifier.state';

export const NOTIFIER_SOURCE = 'grantline/notifier';
export const NOTIFIER_ACTOR: Actor = { kind: 'service', id: 'notifier' };

export interface DeriveContext {
  readonly registry: EventRegistry;
  /** deterministicEventId in the service: the same notification always gets the same envelope id. */
  readonly eventId: (...parts: string[]) => string;
  /** The group told about every break-glass grant (the approval service's security group). */
  readonly securityGroupId: string;
  /** The group alerted when a grant fails or cannot be removed. */
  readonly alertGroupId: string;
}

export interface Derivation {
  /** `iga.notification.requested` envelopes (current version) to publish, in order. */
  readonly events: Envelope[];
  /** Why a relevant fact asked for nothing (logged by the caller, never silently dropped). */
  readonly skipped: string[];
}

/** The notification id of a break-glass grant: the one the approval service used when it published it itself. */
export const breakGlassNotificationId = (eventId: DeriveContext['eventId'], requestId: string): string => eventId('notification', 'break_glass_granted', requestId);

/** The notification id of a failure alert: the one the provisioning service used when it published it itself. */
export const failureNotificationId = (grantId: string, operation: GrantOperation): string => `alert:${idempotencyKeyOf(grantId, operation)}`;

/** One alert per drift episode: the finding and the observation that opened it. */
export const driftNotificationId = (eventId: DeriveContext['eventId'], finding: DriftDetectedData): string =>
  eventId('notification', 'access_drift_detected', driftKeyOf(finding), new Date(finding.detectedAt).toISOString());

/**
 * The notifications a fact asks for. Pure: `state` must already contain `event` (the caller folds every
 * input first, then derives), time is the fact's, ids are derived. A notification already requested —
 * a duplicate fact, or both halves of a join seen again — asks for nothing the second time.
 */
export function derive(event: Envelope, state: NotifierState, context: DeriveContext): Derivation {
  const out: Derivation = { events: [], skipped: [] };
  const emit = (data: NotificationRequestedData, requestId: string): void => {
    if (state.wasRequested(data.notificationId)) return;
    out.events.push(
      context.registry.encode(NotificationRequested, data, {
        id: context.eventId('notifier', NotificationRequested.type, data.notificationId),
        source: NOTIFIER_SOURCE,
        time: event.time,
        subject: requestId,
        correlationid: requestId,
        causationid: event.id,
        actor: NOTIFIER_ACTOR,
      }),
    );
  };

  if (isEvent(event, ApprovalBreakGlassGranted) || (isEvent(event, ApprovalReviewOpened) && event.data.kind === 'break_glass_post_incident')) {
    // The grant and its review are two facts of one decision; either may be the one that completes the join.
    const requestId = event.data.requestId;
    if (requestId === undefined) return out;
    const granted = state.breakGlassOf(requestId);
    const review = state.reviewOf(requestId);
    if (!granted || !review) return out;
    emit(
      {
        notificationId: breakGlassNotificationId(context.eventId, requestId),
        channel: 'chat',
        audience: { groupId: context.securityGroupId },
        template: 'break_glass_granted',
        refs: { requestId, reviewId: review.reviewId },
        params: { beneficiaryId: granted.beneficiaryId, incident: granted.incident, reviewerIds: review.reviewerIds.join(','), reviewDueAt: granted.reviewDueAt },
      },
      requestId,
    );
  } else if (isEvent(event, GrantProvisioningFailed) && event.data.terminal) {
    const { grantId, operation, code, attempts } = event.data;
    const grant = state.grant(grantId);
    // The failure's subject is the request; an unknown grant still alerts, with what the failure itself says.
    if (!grant) out.skipped.push(`grant ${grantId} not known: alerting without its connector and target account`);
    const requestId = grant?.requestId ?? event.subject;
    emit(
      {
        notificationId: failureNotificationId(grantId, operation),
        channel: 'chat',
        audience: { groupId: context.alertGroupId },
        template: 'provisioning_failed',
        refs: { requestId, grantId },
        params: {
          operation,
          state: operation === 'provision' ? 'failed' : 'irrevocable',
          ...(grant ? { connectorId: grant.connectorId, targetAccount: grant.targetAccount } : {}),
          code,
          attempts,
        },
      },
      requestId,
    );
  } else if (isEvent(event, GrantDriftDetected)) {
    const finding = event.data;
    // Reconciliation reports open drift again every run; people are told when it opens, not every hour.
    if (state.continuesOpenDrift(finding)) return out;
    // Access that should not be there is the security team's; access that vanished is an operations alert.
    const audience = finding.kind === 'missing_in_target' ? context.alertGroupId : context.securityGroupId;
    // A finding about a grant is keyed by its request; one without a grant by the reconciliation report.
    const subject = event.correlationid;
    emit(
      {
        notificationId: driftNotificationId(context.eventId, finding),
        channel: 'chat',
        audience: { groupId: audience },
        template: 'access_drift_detected',
        refs: finding.grantId !== undefined ? { grantId: finding.grantId, requestId: subject } : { reportId: subject },
        params: {
          kind: finding.kind,
          connectorId: finding.connectorId,
          systemId: finding.systemId,
          targetAccount: finding.targetAccount,
          externalRef: finding.externalRef,
          detectedAt: finding.detectedAt,
          remediation: finding.remediation,
        },
      },
      subject,
    );
  }
  return out;
}
