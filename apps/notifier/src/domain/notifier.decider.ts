import {
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  GrantDriftDetected,
  GrantProvisioningFailed,
  NotificationRequested,
  idempotencyKeyOf,
  isEvent,
} from '@grantline/contracts';
import type { Actor, DriftDetectedData, Envelope, EventRegistry, GrantOperation, NotificationRequestedData } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';
import { NotifierState, breakGlassFactOf, breakGlassReviewOf, driftKeyOf } from './notifier.state';

export const NOTIFIER_SOURCE = 'grantline/notifier';
export const NOTIFIER_ACTOR: Actor = { kind: 'service', id: 'notifier' };

export interface NotifierContext {
  readonly registry: EventRegistry;
  /** deterministicEventId in the service: the same notification always gets the same envelope id. */
  readonly eventId: EventIdOf;
  /** The group told about every break-glass grant (the approval service's security group). */
  readonly securityGroupId: string;
  /** The group alerted when a grant fails or cannot be removed. */
  readonly alertGroupId: string;
}

/**
 * The notifier decider: the command is a fact from another service's topic, the events are the notifications it
 * asks for. The facts are folded too (a notification may need two of them), and so are the notifications, so a
 * restart knows what it already asked for.
 */
export interface NotifierDecider extends Decider<Envelope, Envelope, NotifierState> {
  /**
   * What a notification had to leave out (a failure alert for a grant never seen created), for the log. A separate
   * pure function rather than a callback inside decide: decide stays events-only.
   */
  explain(command: Envelope, state: NotifierState): readonly string[];
}

/** The notification id of a break-glass grant: the one the approval service used when it published it itself. */
export const breakGlassNotificationId = (eventId: EventIdOf, requestId: string): string => eventId('notification', 'break_glass_granted', requestId);

/** The notification id of a failure alert: the one the provisioning service used when it published it itself. */
export const failureNotificationId = (grantId: string, operation: GrantOperation): string => `alert:${idempotencyKeyOf(grantId, operation)}`;

/** One alert per drift episode: the finding and the observation that opened it. */
export const driftNotificationId = (eventId: EventIdOf, finding: DriftDetectedData): string =>
  eventId('notification', 'access_drift_detected', driftKeyOf(finding), new Date(finding.detectedAt).toISOString());

export function makeNotifierDecider(context: NotifierContext): NotifierDecider {
  const factory = new EventFactory(context.registry, { source: NOTIFIER_SOURCE, actor: NOTIFIER_ACTOR }, context.eventId);
  return {
    initialState: () => new NotifierState(),
    evolve: (state, event) => {
      if (!NotifierState.folds(event)) return state;
      const next = state.clone();
      next.apply(event);
      return next;
    },
    decide: (command, state) => decide(command, state, context, factory),
    explain: (command, state) => {
      if (!isEvent(command, GrantProvisioningFailed) || !command.data.terminal || state.grant(command.data.grantId)) return [];
      return [`grant ${command.data.grantId} not known: alerting without its connector and target account`];
    },
  };
}

/**
 * The notifications a fact asks for, from the state before the fact is folded (it may be folded already: a fact
 * the start-up replay read, redelivered live). Time is the fact's, ids are derived. A notification already
 * requested — a duplicate fact, or both halves of a join seen again — asks for nothing the second time.
 */
function decide(command: Envelope, state: NotifierState, context: NotifierContext, factory: EventFactory): Envelope[] {
  const ask = (data: NotificationRequestedData, requestId: string): Envelope[] => {
    if (state.wasRequested(data.notificationId)) return [];
    // A notification belongs to its request's story (or its report's), whatever the fact's own correlation.
    return [
      factory.derive(NotificationRequested, data, {
        idParts: ['notifier', NotificationRequested.type, data.notificationId],
        cause: command,
        subject: requestId,
        correlationId: requestId,
      }),
    ];
  };

  if (isEvent(command, ApprovalBreakGlassGranted) || (isEvent(command, ApprovalReviewOpened) && command.data.kind === 'break_glass_post_incident')) {
    // The grant and its review are two facts of one decision; either may be the one that completes the join, so the
    // half this fact carries is taken from the fact itself.
    const requestId = command.data.requestId;
    if (requestId === undefined) return [];
    const granted = isEvent(command, ApprovalBreakGlassGranted) ? breakGlassFactOf(command.data) : state.breakGlassOf(requestId);
    const review = isEvent(command, ApprovalReviewOpened) ? breakGlassReviewOf(command.data) : state.reviewOf(requestId);
    if (!granted || !review) return [];
    return ask(
      {
        notificationId: breakGlassNotificationId(context.eventId, requestId),
        channel: 'chat',
        audience: { groupId: context.securityGroupId },
        template: 'break_glass_granted',
        refs: { requestId, reviewId: review.reviewId },
        params: {
          beneficiaryId: granted.beneficiaryId,
          incident: granted.incident,
          reviewerIds: review.reviewerIds.join(','),
          reviewDueAt: granted.reviewDueAt,
        },
      },
      requestId,
    );
  }
  if (isEvent(command, GrantProvisioningFailed) && command.data.terminal) {
    const { grantId, operation, code, attempts } = command.data;
    const grant = state.grant(grantId);
    // The failure's subject is the request; an unknown grant still alerts, with what the failure itself says.
    const requestId = grant?.requestId ?? command.subject;
    return ask(
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
  }
  if (isEvent(command, GrantDriftDetected)) {
    const finding = command.data;
    // Reconciliation reports open drift again every run; people are told when it opens, not every hour.
    if (state.continuesOpenDrift(finding)) return [];
    // Access that should not be there is the security team's; access that vanished is an operations alert.
    const audience = finding.kind === 'missing_in_target' ? context.alertGroupId : context.securityGroupId;
    // A finding about a grant is keyed by its request; one without a grant by the reconciliation report.
    const subject = command.correlationid;
    return ask(
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
  return [];
}
