import { ApprovalBreakGlassGranted, ApprovalReviewOpened, GrantCreated, GrantProvisioningFailed, grantIdOf, registry as catalogue } from '@grantline/contracts';
import type { Envelope, EventDefinition, EventRegistry, GrantOperation } from '@grantline/contracts';

export const FACT_TIME = '2026-01-10T09:00:00.000Z';
export const REVIEW_DUE = '2026-01-12T09:00:00.000Z';

/** Builders for the facts the notifier reacts to, as approval and provisioning publish them; ids derive from the request id. */
export class NotifierFacts {
  constructor(private readonly registry: EventRegistry = catalogue) {}

  private encode<TData>(def: EventDefinition<string, TData>, data: TData, id: string, subject: string, source: string): Envelope<TData> {
    return this.registry.encode(def, data, {
      id,
      source,
      time: FACT_TIME,
      subject,
      correlationid: subject,
      actor: { kind: 'service', id: source.split('/')[1] ?? source },
    });
  }

  breakGlassGranted(requestId: string, entitlementId = 'ent-prod-db'): Envelope {
    return this.encode(
      ApprovalBreakGlassGranted,
      {
        requestId,
        beneficiaryId: 'oncall-bo',
        incidentRef: { system: 'servicenow', id: 'INC0042' },
        grants: [{ grantId: grantIdOf(requestId, entitlementId), entitlementId, expiresAt: '2026-01-10T13:00:00.000Z' }],
        reviewDueAt: REVIEW_DUE,
        decisionId: `${requestId}:decision`,
      },
      `${requestId}:break-glass`,
      requestId,
      'grantline/approval',
    );
  }

  reviewOpened(requestId: string, reviewerIds: readonly string[] = ['lead-cy'], entitlementId = 'ent-prod-db'): Envelope {
    return this.encode(
      ApprovalReviewOpened,
      {
        reviewId: `${requestId}:post-incident-review`,
        kind: 'break_glass_post_incident',
        requestId,
        grantIds: [grantIdOf(requestId, entitlementId)],
        reviewerIds: [...reviewerIds],
        dueAt: REVIEW_DUE,
      },
      `${requestId}:review`,
      requestId,
      'grantline/approval',
    );
  }

  grantCreated(requestId: string, entitlementId = 'ent-orders-read'): Envelope {
    return this.encode(
      GrantCreated,
      {
        grantId: grantIdOf(requestId, entitlementId),
        requestId,
        beneficiaryId: 'dev-ada',
        entitlementId,
        systemId: 'orders-db',
        connectorId: 'postgres',
        targetAccount: 'ada',
        expiresAt: '2026-01-11T09:00:00.000Z',
        breakGlass: false,
        decisionId: `${requestId}:decision`,
      },
      `${requestId}:grant-created`,
      requestId,
      'grantline/provisioning',
    );
  }

  provisioningFailed(requestId: string, options: { terminal: boolean; operation?: GrantOperation; attempts?: number; entitlementId?: string }): Envelope {
    const operation = options.operation ?? 'provision';
    const attempts = options.attempts ?? 3;
    return this.encode(
      GrantProvisioningFailed,
      {
        grantId: grantIdOf(requestId, options.entitlementId ?? 'ent-orders-read'),
        operation,
        reason: 'role "ada" does not exist',
        code: 'target_account_missing',
        retriable: !options.terminal,
        attempts,
        terminal: options.terminal,
      },
      `${requestId}:failed:${operation}:${attempts}:${String(options.terminal)}`,
      requestId,
      'grantline/provisioning',
    );
  }
}
