import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { IdSchema, TimestampSchema } from '@grantline/contracts';
import { accessDenialsProjection } from '../projections/access-denials.projection';
import type { AccessDenialDocument } from '../projections/access-denials.projection';
import { HELD_STATUSES, grantAccessProjection } from '../projections/grant-access.projection';
import type { GrantAccessDocument, GrantStatus } from '../projections/grant-access.projection';
import { grantExplanationProjection } from '../projections/grant-explanation.projection';
import type { ExplainedGrant, ExplainedRevocationRequest, GrantExplanationDocument } from '../projections/grant-explanation.projection';
import { identityRelationsProjection } from '../projections/identity-relations.projection';
import type { IdentityRelationsDocument } from '../projections/identity-relations.projection';
import { reconciliationProjection } from '../projections/reconciliation.projection';
import type { ReconciliationDocument } from '../projections/reconciliation.projection';
import { requestTimelineProjection } from '../projections/request-timeline.projection';
import { ReadModelStore } from '../persistence/read-model.store';
import type { ViewOf } from '@grantline/http-edge';
import type {
  AccessDenialListViewSchema,
  AccessDenialViewSchema,
  CurrentDriftViewSchema,
  GrantAccessViewSchema,
  GrantEndingSchema,
  GrantExplanationViewSchema,
  GrantListViewSchema,
  ReconciliationListViewSchema,
  ReconciliationViewSchema,
  RequestTimelineViewSchema,
} from './audit-query.schema';

export const GrantsQuerySchema = z
  .strictObject({
    subjectId: IdSchema.optional().describe('The identity holding the grants'),
    entitlementId: IdSchema.optional(),
    /** Revoked and never-provisioned grants are history, not access; ask for them explicitly. */
    includeEnded: z.enum(['true', 'false']).optional().describe('Also list revoked and failed grants'),
    /** Who had access at a past instant: the grants live then, whatever became of them since. */
    asOf: TimestampSchema.optional().describe(
      'Who had access at this past instant (ISO-8601 with offset): grants the target confirmed at or before it and whose removal was not confirmed at or before it',
    ),
  })
  .refine((query) => query.subjectId !== undefined || query.entitlementId !== undefined, {
    message: 'Required: subjectId or entitlementId',
    path: ['subjectId'],
  })
  .refine((query) => query.asOf === undefined || query.includeEnded === undefined, {
    message: 'asOf lists the grants live at that instant; includeEnded does not apply to it',
    path: ['includeEnded'],
  });
export type GrantsQuery = z.infer<typeof GrantsQuerySchema>;

export const ConnectorQuerySchema = z.strictObject({ connectorId: IdSchema.describe('The connector whose target was reconciled') });
export type ConnectorQuery = z.infer<typeof ConnectorQuerySchema>;

/** How many reconciliations of one connector the list shows, newest first. */
export const RECONCILIATIONS_LIMIT = 50;

export const AccessDenialsQuerySchema = z.strictObject({
  /** The refused caller (the token subject). */
  principalId: IdSchema.optional().describe('Only the refusals of this caller (the token subject)'),
  /** The refusing service: intake, policy, approval, scheduler, audit. */
  service: IdSchema.optional().describe('Only the refusals of this service (intake, policy, approval, scheduler, audit)'),
});
export type AccessDenialsQuery = z.infer<typeof AccessDenialsQuerySchema>;

/** How many refusals the list shows, newest first. */
export const ACCESS_DENIALS_LIMIT = 100;

export type AccessDenialView = ViewOf<typeof AccessDenialViewSchema>;
export type AccessDenialListView = ViewOf<typeof AccessDenialListViewSchema>;

/** A person's manager and a non-human identity's owner of record, as the identity source last stated them. */
export type IdentityRelationsView = Pick<IdentityRelationsDocument, 'identityId' | 'kind' | 'status' | 'managerId' | 'ownerId'>;

// The views are the types of the schemas the OpenAPI document is generated from (audit-query.schema.ts): the
// compiler holds every view built from a projection's document to what /docs says the route answers.
export type RequestTimelineView = ViewOf<typeof RequestTimelineViewSchema>;
export type GrantAccessView = ViewOf<typeof GrantAccessViewSchema>;
export type GrantListView = ViewOf<typeof GrantListViewSchema>;
/** How the grant's access ended, when it has. */
export type GrantEnding = ViewOf<typeof GrantEndingSchema>;
export type GrantExplanationView = ViewOf<typeof GrantExplanationViewSchema>;
/** `completed` is false while only findings have been read: the completion (report id, counts) has not arrived yet. */
export type ReconciliationView = ViewOf<typeof ReconciliationViewSchema>;
export type ReconciliationListView = ViewOf<typeof ReconciliationListViewSchema>;
/** The drift a connector's target showed when it was last read completely. */
export type CurrentDriftView = ViewOf<typeof CurrentDriftViewSchema>;

function reconciliationViewOf(doc: ReconciliationDocument): ReconciliationView {
  const { _id: _id, appliedEventIds: _applied, completedEventId: _completedBy, ...view } = doc;
  return view;
}

function denialViewOf(doc: AccessDenialDocument): AccessDenialView {
  const { _id: _id, appliedEventIds: _applied, ...view } = doc;
  return view;
}

function withoutBookkeeping(doc: GrantAccessDocument): GrantAccessView {
  const { _id: _id, appliedEventIds: _applied, ...view } = doc;
  return view;
}

function endingOf(grant: ExplainedGrant, revocations: readonly ExplainedRevocationRequest[]): GrantEnding | undefined {
  const reason = grant.revokeReason ?? grant.deprovisionReason;
  const at = grant.revokedAt ?? grant.deprovisioningRequestedAt;
  if (reason === undefined || at === undefined) return undefined;
  const manual = reason === 'revocation' ? revocations.at(-1) : undefined;
  return {
    reason,
    at,
    ...(manual ? { requestedBy: manual.requestedBy, requestReason: manual.reason } : {}),
    ...(grant.expiryTimerFiredAt !== undefined ? { expiryTimerFiredAt: grant.expiryTimerFiredAt } : {}),
  };
}

function missingLinks(doc: GrantExplanationDocument, grant: ExplainedGrant): string[] {
  const missing: string[] = [];
  if (doc.request === undefined) missing.push('request');
  if (doc.decision === undefined) missing.push('policy_decision');
  if (doc.decision?.effect === 'require_approval' && doc.approvals.length === 0 && doc.outcome?.kind !== 'break_glass') missing.push('approvals');
  if (doc.outcome === undefined) missing.push('approval_outcome');
  if (grant.createdAt === undefined) missing.push('grant_created');
  if (grant.activatedAt === undefined) missing.push('provisioning');
  return missing;
}

/**
 * Access was live at `instant` when the target confirmed it at or before then and its removal was not confirmed
 * at or before then. A grant whose removal failed has no revocation time, so it stays live: access may still work.
 */
function liveAt(doc: GrantAccessDocument, instant: number): boolean {
  if (doc.activatedAt === undefined || Date.parse(doc.activatedAt) > instant) return false;
  return doc.revokedAt === undefined || Date.parse(doc.revokedAt) > instant;
}

/** Reads the projections; never writes. */
@Injectable()
export class AuditQueryService {
  constructor(private readonly store: ReadModelStore) {}

  async timeline(requestId: string): Promise<RequestTimelineView | undefined> {
    const doc = await this.store.load(requestTimelineProjection, requestId);
    return doc === undefined ? undefined : { requestId: doc.requestId, status: doc.status, entries: doc.entries };
  }

  async grants(query: GrantsQuery): Promise<GrantListView> {
    const filter: Record<string, string> = {};
    if (query.subjectId !== undefined) filter['subjectId'] = query.subjectId;
    if (query.entitlementId !== undefined) filter['entitlementId'] = query.entitlementId;
    const docs = await this.store.find(grantAccessProjection, filter);
    if (query.asOf !== undefined) {
      const instant = Date.parse(query.asOf);
      return { grants: docs.filter((doc) => liveAt(doc, instant)).map(withoutBookkeeping) };
    }
    const held = (status: GrantStatus): boolean => query.includeEnded === 'true' || HELD_STATUSES.includes(status);
    return { grants: docs.filter((doc) => held(doc.status)).map(withoutBookkeeping) };
  }

  async reconciliations(query: ConnectorQuery): Promise<ReconciliationListView> {
    const docs = await this.store.find(
      reconciliationProjection,
      { connectorId: query.connectorId },
      { sort: { observedAt: -1 }, limit: RECONCILIATIONS_LIMIT },
    );
    return { reconciliations: docs.map(reconciliationViewOf) };
  }

  /** Undefined until a reconciliation of the connector has completed: findings alone are a reconciliation still arriving. */
  async currentDrift(query: ConnectorQuery): Promise<CurrentDriftView | undefined> {
    const [latest] = await this.store.find(
      reconciliationProjection,
      { connectorId: query.connectorId, completed: true },
      { sort: { observedAt: -1 }, limit: 1 },
    );
    if (latest?.reportId === undefined || latest.drift === undefined) return undefined;
    const counted = latest.drift.missingInTarget + latest.drift.unexpectedInTarget + latest.drift.expiredButPresent;
    return {
      connectorId: latest.connectorId,
      observedAt: latest.observedAt,
      reportId: latest.reportId,
      drift: latest.drift,
      findings: latest.findings,
      findingsPending: Math.max(0, counted - latest.findings.length),
    };
  }

  /** Newest first; equal instants by event id, so the order does not depend on which topic was read first. */
  async accessDenials(query: AccessDenialsQuery): Promise<AccessDenialListView> {
    const filter: Record<string, string> = {};
    if (query.principalId !== undefined) filter['principalId'] = query.principalId;
    if (query.service !== undefined) filter['service'] = query.service;
    const docs = await this.store.find(accessDenialsProjection, filter, { sort: { at: -1, _id: -1 }, limit: ACCESS_DENIALS_LIMIT });
    return { denials: docs.map(denialViewOf) };
  }

  async identityRelations(identityId: string): Promise<IdentityRelationsView | undefined> {
    const doc = await this.store.load(identityRelationsProjection, identityId);
    if (doc === undefined) return undefined;
    return {
      identityId: doc.identityId,
      ...(doc.kind === undefined ? {} : { kind: doc.kind }),
      ...(doc.status === undefined ? {} : { status: doc.status }),
      ...(doc.managerId === undefined ? {} : { managerId: doc.managerId }),
      ...(doc.ownerId === undefined ? {} : { ownerId: doc.ownerId }),
    };
  }

  async explain(grantId: string): Promise<GrantExplanationView | undefined> {
    const [doc] = await this.store.find(grantExplanationProjection, { grantIds: grantId });
    const grant = doc?.grants.find((candidate) => candidate.grantId === grantId);
    if (doc === undefined || grant === undefined) return undefined;
    const revocationRequests = doc.revocationRequests.filter((revocation) => revocation.grantId === undefined || revocation.grantId === grantId);
    const ending = endingOf(grant, revocationRequests);
    return {
      grantId,
      requestId: doc.requestId,
      ...(doc.request ? { request: doc.request } : {}),
      ...(doc.decision ? { decision: doc.decision } : {}),
      approvals: doc.approvals,
      selfApprovalAttempts: doc.selfApprovalAttempts,
      ...(doc.outcome ? { outcome: doc.outcome } : {}),
      ...(doc.withdrawal ? { withdrawal: doc.withdrawal } : {}),
      revocationRequests,
      grant,
      ...(ending ? { ending } : {}),
      missing: missingLinks(doc, grant),
    };
  }
}
