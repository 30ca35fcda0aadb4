import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantCredentialIssued,
  GrantDeprovisioningRequested,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  TimerFired,
  grantIdOf,
  registry,
} from '@grantline/contracts';
import type { Actor, DeprovisionReason, Entitlement, EventDefinition, IdentityKind, PolicyEffect } from '@grantline/contracts';
import type { PositionedEvent } from '../evidence-pack.model';

export const DIGEST = 'b7e1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

const entitlement = (overrides: Partial<Entitlement> & Pick<Entitlement, 'entitlementId'>): Entitlement => ({
  systemId: 'orders-db',
  name: overrides.entitlementId,
  externalRef: `role_${overrides.entitlementId.replace(/-/g, '_')}`,
  sensitivity: 'low',
  environment: 'nonprod',
  ownerId: 'dana',
  privileges: ['read'],
  maxDuration: 'P30D',
  requestable: true,
  ...overrides,
});

/** The catalogue the scenarios use: one harmless read, one privileged production write (P7D at most). */
export const ENTITLEMENTS = {
  stagingRead: entitlement({ entitlementId: 'orders-staging-read' }),
  prodWrite: entitlement({
    entitlementId: 'orders-prod-write',
    environment: 'prod',
    sensitivity: 'high',
    privileges: ['read', 'write'],
    maxDuration: 'P7D',
  }),
} as const;

export interface GrantStory {
  readonly requestId: string;
  readonly subject: string;
  readonly kind?: IdentityKind;
  readonly requester?: string;
  readonly entitlementId?: string;
  /** How it was approved; `none`: no approval event at all (a grant the log cannot explain). */
  readonly basis?: 'auto' | 'approver' | 'break_glass' | 'none';
  readonly approver?: string;
  /** Minutes from the scenario start. */
  readonly at: number;
  readonly lifetimeMinutes: number;
  /** Minutes from the start when the grant was revoked; undefined: still active. */
  readonly revokedAt?: number;
  readonly revokeReason?: DeprovisionReason;
  /** Whether the request and decision are on the log (false: a grant from nowhere). */
  readonly withRequest?: boolean;
  readonly sodConflict?: boolean;
}

/**
 * Builds a realistic log, event by event, each on its catalogue topic with the next offset of partition 0, as the
 * services would have written it. Times are minutes from `start`.
 */
export class LogScenario {
  readonly events: PositionedEvent[] = [];
  private readonly offsets = new Map<string, number>();
  private sequence = 0;

  constructor(readonly start = '2026-03-02T09:00:00.000Z') {}

  at(minutes: number): string {
    return new Date(Date.parse(this.start) + minutes * 60_000).toISOString();
  }

  put<TData>(
    def: EventDefinition<string, TData>,
    data: TData,
    minutes: number,
    actor: Actor = { kind: 'service', id: 'grantline' },
    subject = 'subject',
  ): PositionedEvent {
    this.sequence += 1;
    const event = registry.encode(def, data, {
      id: `evt-${String(this.sequence).padStart(4, '0')}`,
      source: 'grantline/evidence-spec',
      time: this.at(minutes),
      subject,
      correlationid: subject,
      actor,
    });
    const offset = this.offsets.get(def.topic) ?? 0;
    this.offsets.set(def.topic, offset + 1);
    const positioned = { event, position: { topic: def.topic, partition: 0, offset: String(offset) } };
    this.events.push(positioned);
    return positioned;
  }

  catalogue(minutes = -1000): this {
    this.put(
      CatalogPublished,
      {
        catalogVersion: 1,
        digest: DIGEST,
        systems: [{ systemId: 'orders-db', name: 'Orders', connectorId: 'postgres', ownerId: 'dana', environment: 'prod' }],
        entitlements: Object.values(ENTITLEMENTS),
        accessPackages: [],
      },
      minutes,
    );
    return this;
  }

  human(identityId: string, minutes: number, status: 'active' | 'suspended' | 'offboarded' = 'active'): this {
    this.put(
      IdentityUpserted,
      { identity: { kind: 'human', identityId, displayName: identityId, status, attributes: {} } },
      minutes,
      { kind: 'service', id: 'hr-sync' },
      identityId,
    );
    return this;
  }

  nhi(identityId: string, ownerId: string, minutes: number, status: 'active' | 'suspended' | 'offboarded' = 'active'): this {
    this.put(
      IdentityUpserted,
      { identity: { kind: 'ci_pipeline', identityId, displayName: identityId, status, ownerId, attributes: {} } },
      minutes,
      { kind: 'user', id: ownerId },
      identityId,
    );
    return this;
  }

  offboard(identityId: string, minutes: number, ownedIdentityIds: string[] = []): this {
    this.put(
      IdentityOffboarded,
      { identityId, kind: 'human', effectiveAt: this.at(minutes), reason: 'leaver', ownedIdentityIds },
      minutes,
      { kind: 'service', id: 'hr-sync' },
      identityId,
    );
    return this;
  }

  ownerChanged(identityId: string, previousOwnerId: string, newOwnerId: string, minutes: number): this {
    this.put(
      IdentityOwnerChanged,
      { identityId, previousOwnerId, newOwnerId, reason: 'transfer', changedBy: newOwnerId },
      minutes,
      { kind: 'user', id: newOwnerId },
      identityId,
    );
    return this;
  }

  /** A request through to its grant's end: submitted, decided, approved, created, activated, and removed if asked. */
  grant(story: GrantStory): string {
    const entitlementId = story.entitlementId ?? ENTITLEMENTS.stagingRead.entitlementId;
    const grantId = grantIdOf(story.requestId, entitlementId);
    const kind = story.kind ?? 'human';
    const requester = story.requester ?? story.subject;
    const expiresAt = this.at(story.at + story.lifetimeMinutes);
    const basis = story.basis ?? 'auto';
    const user: Actor = { kind: 'user', id: requester };
    const service = (id: string): Actor => ({ kind: 'service', id });
    const decisionId = `${story.requestId}:decision`;
    if (story.withRequest !== false) {
      this.put(
        RequestSubmitted,
        {
          requestId: story.requestId,
          requesterId: requester,
          subject: { id: story.subject, kind },
          items: { entitlementIds: [entitlementId] },
          justification: 'Investigate the nightly export',
          duration: `PT${story.lifetimeMinutes}M`,
          channel: 'api',
          ...(basis === 'break_glass' ? { emergency: { breakGlass: true as const, incidentRef: { system: 'servicenow' as const, id: 'INC0042' } } } : {}),
        },
        story.at,
        user,
        story.requestId,
      );
      const effect: PolicyEffect = basis === 'approver' ? 'require_approval' : 'auto_approve';
      this.put(
        PolicyDecisionRecorded,
        {
          decisionId,
          requestId: story.requestId,
          effect,
          ...(effect === 'require_approval' ? { route: { stages: [{ id: 'manager', approvers: [{ resolver: 'manager' as const }], quorum: 1 }] } } : {}),
          constraints: { maxDuration: 'PT24H', breakGlassAllowed: basis === 'break_glass' },
          risk: { score: 10, factors: [] },
          sodConflicts:
            story.sodConflict === true
              ? [{ policyId: 'payments-maker-checker', entitlements: ['payments-write', 'payments-approver'], description: 'maker and checker' }]
              : [],
          reasons: ['decided by the spec'],
          matchedRules: [basis === 'approver' ? 'humans-prod-needs-manager' : 'human-low-nonprod-read'],
          recordOnly: [],
          bundleDigest: DIGEST,
          inputSnapshot: {},
          evaluation: { outcome: 'recorded_before_v2' },
        },
        story.at,
        service('policy'),
        story.requestId,
      );
    }
    const grants = [{ grantId, entitlementId, expiresAt }];
    if (basis === 'break_glass') {
      this.put(
        ApprovalBreakGlassGranted,
        {
          requestId: story.requestId,
          beneficiaryId: story.subject,
          incidentRef: { system: 'servicenow', id: 'INC0042' },
          grants,
          reviewDueAt: this.at(story.at + 2880),
          decisionId,
        },
        story.at,
        service('approval'),
        story.requestId,
      );
      this.put(
        ApprovalReviewOpened,
        {
          reviewId: `${story.requestId}:review`,
          kind: 'break_glass_post_incident',
          requestId: story.requestId,
          grantIds: [grantId],
          reviewerIds: ['erin'],
          dueAt: this.at(story.at + 2880),
        },
        story.at,
        service('approval'),
        story.requestId,
      );
    } else if (basis !== 'none') {
      const approvals: { taskId: string; stageId: string; approverId: string; decidedAt: string }[] = [];
      if (basis === 'approver') {
        const approverId = story.approver ?? 'maria';
        this.approve(story.requestId, approverId, story.at + 1);
        approvals.push({ taskId: `${story.requestId}:manager`, stageId: 'manager', approverId, decidedAt: this.at(story.at + 1) });
      }
      this.put(
        ApprovalRequestApproved,
        {
          requestId: story.requestId,
          beneficiaryId: story.subject,
          grants,
          basis: { kind: basis === 'approver' ? 'approvals' : 'auto_approved', decisionId, approvals },
        },
        story.at + (basis === 'approver' ? 1 : 0),
        service('approval'),
        story.requestId,
      );
    }
    this.put(
      GrantCreated,
      {
        grantId,
        requestId: story.requestId,
        beneficiaryId: story.subject,
        entitlementId,
        systemId: 'orders-db',
        connectorId: 'postgres',
        targetAccount: story.subject.replace(/-/g, '_'),
        expiresAt,
        breakGlass: basis === 'break_glass',
        decisionId,
      },
      story.at + 1,
      service('provisioning'),
      story.requestId,
    );
    this.put(GrantActivated, { grantId, activatedAt: this.at(story.at + 2), expiresAt }, story.at + 2, service('provisioning'), story.requestId);
    if (story.revokedAt !== undefined) {
      const reason = story.revokeReason ?? 'expiry';
      if (reason === 'expiry') {
        this.put(
          TimerFired,
          {
            timerId: `grant_expiry:${grantId}`,
            kind: 'grant_expiry',
            dueAt: expiresAt,
            firedAt: this.at(Math.max(story.revokedAt, story.at + story.lifetimeMinutes)),
            target: { grantId },
          },
          Math.max(story.revokedAt, story.at + story.lifetimeMinutes),
          service('scheduler'),
          grantId,
        );
      }
      this.put(
        GrantDeprovisioningRequested,
        { grantId, connectorId: 'postgres', reason, idempotencyKey: `${grantId}:deprovision`, attempt: 1 },
        story.revokedAt,
        service('provisioning'),
        story.requestId,
      );
      this.put(GrantRevoked, { grantId, reason, revokedAt: this.at(story.revokedAt) }, story.revokedAt, service('provisioning'), story.requestId);
    }
    return grantId;
  }

  approve(requestId: string, approverId: string, minutes: number): this {
    this.put(
      ApprovalDecisionRecorded,
      { taskId: `${requestId}:manager`, requestId, stageId: 'manager', approverId, decision: 'approve' },
      minutes,
      { kind: 'user', id: approverId },
      requestId,
    );
    return this;
  }

  selfApprovalBlocked(requestId: string, attemptedById: string, minutes: number): this {
    this.put(
      ApprovalSelfApprovalBlocked,
      { taskId: `${requestId}:manager`, requestId, attemptedById, relation: 'requester', attemptedAt: this.at(minutes) },
      minutes,
      { kind: 'user', id: attemptedById },
      requestId,
    );
    return this;
  }

  credential(grantId: string, minutes: number, lifetimeMinutes: number): this {
    this.put(
      GrantCredentialIssued,
      {
        grantId,
        credentialId: `${grantId}:cred`,
        credentialType: 'short_lived_token',
        credentialRef: `vault:secret/grantline/${grantId}`,
        fingerprint: 'sha256:0123456789abcdef',
        issuedAt: this.at(minutes),
        expiresAt: this.at(minutes + lifetimeMinutes),
      },
      minutes,
      { kind: 'service', id: 'provisioning' },
      grantId,
    );
    return this;
  }
}
