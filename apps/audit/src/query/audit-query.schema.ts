import { z } from 'zod';
import {
  AccessDeniedDataSchema,
  ActorSchema,
  DecisionConstraintsSchema,
  DeprovisionReasonSchema,
  DriftDetectedDataSchema,
  PolicyEffectSchema,
  ReconciliationCompletedDataSchema,
  RequestChannelSchema,
  SodConflictSchema,
  SubjectRefSchema,
  TicketRefSchema,
} from '@grantline/contracts';

// The answers of the query API, as zod schemas: the service's view types are these schemas' types and the OpenAPI
// document is generated from them, so what the routes return and what /docs shows are one thing. The projections'
// documents carry more (ids of applied events, the Mongo _id); the views leave that out.

const timestamp = z.iso.datetime({ offset: true });

export const RequestStatusSchema = z.enum([
  'unknown',
  'submitted',
  'pending_approval',
  'approved',
  'denied',
  'withdrawn',
  'provisioning',
  'active',
  'failed',
  'ended',
]);

export const TimelineEntrySchema = z.object({
  eventId: z.string(),
  type: z.string().meta({ example: 'iga.approval.decision-recorded.v1' }),
  at: timestamp,
  actor: ActorSchema,
  summary: z.string().meta({ example: 'bob approved stage owner' }),
  grantId: z.string().optional(),
  taskId: z.string().optional(),
  details: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]))
    .describe('The fields an auditor filters on, per event type'),
});

export const RequestTimelineViewSchema = z.object({
  requestId: z.string(),
  status: RequestStatusSchema,
  entries: z.array(TimelineEntrySchema).describe('Every event of the request, ordered by time'),
});

export const GrantStatusSchema = z.enum(['pending', 'active', 'failed', 'deprovisioning', 'revocation_failed', 'revoked']);

export const GrantAccessViewSchema = z.object({
  grantId: z.string(),
  status: GrantStatusSchema,
  requestId: z.string().optional(),
  subjectId: z.string().optional().describe('The identity holding the access'),
  entitlementId: z.string().optional(),
  systemId: z.string().optional(),
  connectorId: z.string().optional(),
  targetAccount: z.string().optional(),
  breakGlass: z.boolean().optional(),
  createdAt: timestamp.optional(),
  activatedAt: timestamp.optional(),
  expiresAt: timestamp.optional(),
  deprovisionRequestedAt: timestamp.optional(),
  deprovisionReason: DeprovisionReasonSchema.optional(),
  revokedAt: timestamp.optional(),
  revokeReason: DeprovisionReasonSchema.optional(),
  provisionFailedTerminally: z.boolean().optional(),
  deprovisionFailedTerminally: z.boolean().optional(),
});
export const GrantListViewSchema = z.object({ grants: z.array(GrantAccessViewSchema) });

export const ExplainedRequestSchema = z.object({
  eventId: z.string(),
  submittedAt: timestamp,
  submittedBy: ActorSchema.describe('The authenticated principal that submitted it'),
  requesterId: z.string(),
  subject: SubjectRefSchema,
  entitlementIds: z.array(z.string()).optional(),
  accessPackageId: z.string().optional(),
  justification: z.string(),
  ticket: TicketRefSchema.optional(),
  duration: z.string().optional().meta({ example: 'PT8H' }),
  endsAt: timestamp.optional(),
  breakGlass: z.boolean(),
  incident: TicketRefSchema.optional(),
  channel: RequestChannelSchema,
});

export const ExplainedDecisionSchema = z.object({
  eventId: z.string(),
  decisionId: z.string(),
  decidedAt: timestamp,
  effect: PolicyEffectSchema,
  reasons: z.array(z.string()),
  matchedRules: z.array(z.string()),
  bundleDigest: z.string().describe('sha256 of the policy bundle that decided'),
  catalogDigest: z.string().optional(),
  engine: z.string().optional(),
  riskScore: z.number(),
  riskFactors: z.array(z.string()),
  sodConflicts: z.array(SodConflictSchema),
  constraints: DecisionConstraintsSchema,
  stageIds: z.array(z.string()),
});

export const ExplainedApprovalSchema = z.object({
  eventId: z.string(),
  taskId: z.string(),
  stageId: z.string(),
  approverId: z.string(),
  onBehalfOfId: z.string().optional(),
  decision: z.enum(['approve', 'deny']),
  comment: z.string().optional(),
  decidedAt: timestamp,
});

export const ExplainedOutcomeSchema = z.object({
  eventId: z.string(),
  kind: z.enum(['approved', 'auto_approved', 'break_glass', 'denied']),
  at: timestamp,
  decisionId: z.string().optional(),
  reasons: z.array(z.string()).optional(),
  deniedBy: z.string().optional(),
  reviewDueAt: timestamp.optional(),
});

export const ExplainedRevocationRequestSchema = z.object({
  eventId: z.string(),
  revocationId: z.string(),
  grantId: z.string().optional(),
  requestedBy: z.string(),
  reason: z.string(),
  at: timestamp,
});

export const ExplainedWithdrawalSchema = z.object({ eventId: z.string(), withdrawnBy: z.string(), reason: z.string().optional(), at: timestamp });

export const ExplainedGrantSchema = z.object({
  grantId: z.string(),
  entitlementId: z.string().optional(),
  beneficiaryId: z.string().optional(),
  systemId: z.string().optional(),
  connectorId: z.string().optional().describe('The connector that provisioned it'),
  targetAccount: z.string().optional(),
  breakGlass: z.boolean().optional(),
  createdAt: timestamp.optional(),
  plannedExpiresAt: timestamp.optional(),
  provisioningRequestedAt: timestamp.optional(),
  provisioningAttempts: z.number().int().optional(),
  activatedAt: timestamp.optional(),
  expiresAt: timestamp.optional(),
  externalId: z.string().optional(),
  failures: z.array(z.object({ eventId: z.string(), operation: z.string(), code: z.string(), reason: z.string(), terminal: z.boolean(), at: timestamp })),
  credential: z
    .object({ credentialId: z.string(), type: z.string(), fingerprint: z.string(), issuedAt: timestamp, expiresAt: timestamp })
    .optional()
    .describe('A reference and fingerprint, never the secret'),
  expiryTimerFiredAt: timestamp.optional(),
  deprovisioningRequestedAt: timestamp.optional(),
  deprovisionReason: DeprovisionReasonSchema.optional(),
  revokedAt: timestamp.optional(),
  revokeReason: DeprovisionReasonSchema.optional(),
});

export const GrantEndingSchema = z.object({
  reason: z.string().describe('expiry, withdrawal, revocation, offboarding, break_glass_ttl'),
  at: timestamp,
  requestedBy: z.string().optional().describe('The manual revocation request behind a `revocation` ending'),
  requestReason: z.string().optional(),
  expiryTimerFiredAt: timestamp.optional(),
});

export const GrantExplanationViewSchema = z.object({
  grantId: z.string(),
  requestId: z.string(),
  request: ExplainedRequestSchema.optional().describe('Who asked, for whom, why, under which ticket'),
  decision: ExplainedDecisionSchema.optional().describe('The policy decision with bundle digest, matched rules and reasons'),
  approvals: z.array(ExplainedApprovalSchema),
  selfApprovalAttempts: z
    .array(z.object({ eventId: z.string(), attemptedById: z.string(), relation: z.string(), at: timestamp }))
    .describe("Blocked attempts to approve one's own request"),
  outcome: ExplainedOutcomeSchema.optional(),
  withdrawal: ExplainedWithdrawalSchema.optional(),
  revocationRequests: z.array(ExplainedRevocationRequestSchema),
  grant: ExplainedGrantSchema.describe('Provisioning (connector, when) and removal'),
  ending: GrantEndingSchema.optional().describe('Expiry or revocation: why and when'),
  missing: z.array(z.string()).describe('Links of the chain the audit has not seen (yet): evidence gaps an auditor should look at'),
});

export const ReconciliationFindingSchema = z.object({
  eventId: z.string().describe('The drift-detected event that reported it'),
  kind: DriftDetectedDataSchema.shape.kind,
  systemId: z.string(),
  targetAccount: z.string().describe('The account in the target system'),
  externalRef: z.string().describe('What the account holds (or should hold) in the target, e.g. a role'),
  grantId: z.string().optional().describe('Absent for access in the target that no grant accounts for'),
  remediation: DriftDetectedDataSchema.shape.remediation,
});

const DriftCountsSchema = ReconciliationCompletedDataSchema.shape.drift;

export const ReconciliationViewSchema = z.object({
  connectorId: z.string(),
  observedAt: timestamp.describe('When the connector read the target: the instant the comparison is true for'),
  completed: z.boolean().describe('False while only findings have been seen: the completion (report id, counts) has not arrived yet'),
  reportId: z.string().optional(),
  assignments: z.number().int().optional().describe('Assignments the target reported in the roles the connector manages'),
  grantsExpected: z.number().int().optional().describe('Grants that should have been live in the target at observedAt'),
  drift: DriftCountsSchema.optional(),
  findings: z.array(ReconciliationFindingSchema),
});
export const ReconciliationListViewSchema = z.object({ reconciliations: z.array(ReconciliationViewSchema).describe('Newest observedAt first') });

export const CurrentDriftViewSchema = z.object({
  connectorId: z.string(),
  observedAt: timestamp.describe('When the latest completed reconciliation read the target'),
  reportId: z.string(),
  drift: DriftCountsSchema.describe('Findings the reconciliation reported, per kind'),
  findings: z.array(ReconciliationFindingSchema).describe('The drift open as last observed; empty when the target matched the grants'),
  findingsPending: z.number().int().describe('Findings counted but not yet projected (they travel on other partitions than the summary); 0 = complete'),
});

export const AccessDenialViewSchema = z.object({
  eventId: z.string().describe('The access-denied event that recorded it'),
  principalId: z.string().describe('The refused caller (the token subject)'),
  principalKind: AccessDeniedDataSchema.shape.principalKind,
  roles: z.array(z.string()).describe('The Grantline roles the caller held'),
  service: z.string().describe('The refusing service').meta({ example: 'intake' }),
  operation: z.string().meta({ example: 'POST /v1/identities/:id/offboard' }),
  objectRef: z.string().optional().describe('The object of the refused call; absent for an operation on no one object'),
  status: AccessDeniedDataSchema.shape.status.describe('404: refused without revealing whether the object exists'),
  reason: z.string().describe('Why it was refused (never shown to the caller for a 404)'),
  at: timestamp,
  suppressedSincePrevious: z.number().int().describe('Refusals of this caller by this service not recorded (rate limit) since its previous record'),
});
export const AccessDenialListViewSchema = z.object({ denials: z.array(AccessDenialViewSchema).describe('Newest first') });

export const CampaignAuditViewSchema = z.object({
  campaignId: z.string(),
  definitionId: z.string().optional(),
  trigger: z.string().optional(),
  startedAt: timestamp.optional(),
  dueAt: timestamp.optional(),
  completedAt: timestamp.optional(),
  counts: z.object({
    items: z.number().int(),
    decided: z.number().int(),
    certified: z.number().int(),
    revoked: z.number().int(),
    reduced: z.number().int(),
    overdue: z.number().int().describe('Items that missed a deadline (escalated or revoked for it)'),
    revokedUnanswered: z.number().int().describe('Revoked because nobody answered (included in `revoked`)'),
    open: z.number().int(),
  }),
  items: z.array(
    z.object({
      itemId: z.string(),
      grantId: z.string(),
      beneficiaryId: z.string().optional(),
      entitlementId: z.string().optional(),
      privileged: z.boolean().optional(),
      decision: z
        .object({ decision: z.enum(['certify', 'revoke', 'reduce']), reviewerId: z.string(), decidedAt: timestamp, eventId: z.string() })
        .optional()
        .describe("The reviewer's answer, when there was one (it closes the item whatever else happened)"),
      lapses: z
        .array(z.object({ action: z.enum(['revoke', 'escalate']), lapsedAt: timestamp, eventId: z.string() }))
        .describe('Each missed deadline, in order'),
      policyToday: z
        .discriminatedUnion('outcome', [
          z.object({ outcome: z.literal('evaluated'), bundleDigest: z.string(), effect: z.string(), changed: z.boolean(), eventId: z.string() }),
          z.object({ outcome: z.literal('unknown'), bundleDigest: z.string(), reason: z.string(), eventId: z.string() }),
        ])
        .optional()
        .describe('What the bundle running at the start decided for the input recorded at grant time, or why not'),
    }),
  ),
  blockedAttempts: z.number().int().describe('Refused attempts to review (own access, own NHI)'),
});
