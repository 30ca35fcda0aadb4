import { z } from 'zod';
import { CertificationDecisionSchema, CertificationItemSchema, DriftDetectedDataSchema, IdSchema, LIMITS, TimestampSchema } from '@grantline/contracts';

export const StartCampaignBodySchema = z.strictObject({ definitionId: IdSchema });

export const ItemDecisionBodySchema = z
  .strictObject({
    decision: CertificationDecisionSchema,
    newExpiresAt: TimestampSchema.optional(),
    comment: z.string().trim().min(1).max(LIMITS.comment).optional(),
  })
  .refine((body) => (body.decision === 'reduce') === (body.newExpiresAt !== undefined), {
    message: 'newExpiresAt is required for, and only for, reduce',
    path: ['newExpiresAt'],
  });

// The answers of the campaign routes: the views in certification.views.ts are these schemas' types, so what the
// routes return and what /docs shows are one thing.

export const PolicyDecisionTodaySchema = z
  .discriminatedUnion('status', [
    z.object({ status: z.literal('pending') }),
    z.object({
      status: z.literal('evaluated'),
      bundleDigest: z.string(),
      effect: z.string(),
      reasons: z.array(z.string()),
      changed: z.boolean().describe('The effect differs from the one at grant time'),
      evaluatedAt: z.iso.datetime(),
    }),
    z.object({ status: z.literal('unknown'), bundleDigest: z.string(), reason: z.string(), detail: z.string(), evaluatedAt: z.iso.datetime() }),
  ])
  .describe('What the bundle active now decides for the input recorded at grant time (`pending` until policy has answered)');

export const LineageSchema = z.object({
  request: z
    .object({
      requestId: z.string(),
      requesterId: z.string().optional(),
      justification: z.string().optional(),
      submittedAt: z.iso.datetime().optional(),
      ticket: z.object({ system: z.string(), id: z.string() }).optional(),
    })
    .optional(),
  policyDecision: z
    .object({
      decisionId: z.string(),
      effect: z.string(),
      bundleDigest: z.string(),
      reasons: z.array(z.string()),
      matchedRules: z.array(z.string()),
      riskScore: z.number(),
      decidedAt: z.iso.datetime(),
    })
    .optional(),
  policyDecisionToday: PolicyDecisionTodaySchema,
  approvals: z.array(z.object({ stageId: z.string(), approverId: z.string(), decision: z.string(), decidedAt: z.iso.datetime() })),
  outcome: z.string().optional(),
  grant: z
    .object({
      createdAt: z.iso.datetime(),
      activatedAt: z.iso.datetime().optional(),
      expiresAt: z.iso.datetime(),
      breakGlass: z.boolean(),
      expiryChanges: z.array(z.object({ from: z.iso.datetime(), to: z.iso.datetime(), at: z.iso.datetime() })),
    })
    .optional(),
  renewals: z
    .array(z.object({ grantId: z.string(), createdAt: z.iso.datetime(), expiresAt: z.iso.datetime(), status: z.string() }))
    .describe('Earlier grants of the same entitlement to the same holder'),
  driftFindings: z.array(DriftDetectedDataSchema.pick({ kind: true, detectedAt: true, remediation: true })),
  lastUse: z.literal('not_reported').describe('Last use is not reported by any connector yet'),
});

export const ItemAnswerSchema = z.object({
  reviewerId: z.string(),
  decision: CertificationDecisionSchema,
  decidedAt: z.iso.datetime(),
  newExpiresAt: z.iso.datetime().optional(),
  comment: z.string().optional(),
});

export const ItemViewSchema = z.object({
  ...CertificationItemSchema.shape,
  campaignId: z.string(),
  status: z.enum(['open', 'certified', 'revoked', 'reduced', 'lapsed']),
  currentReviewerIds: z.array(z.string()).describe("The snapshot's reviewers, or those it was escalated to"),
  dueAt: z.iso.datetime(),
  escalated: z.boolean(),
  answer: ItemAnswerSchema.optional(),
  lineage: LineageSchema,
});

export const CampaignSummarySchema = z.object({
  campaignId: z.string(),
  definitionId: z.string(),
  trigger: z.string(),
  status: z.enum(['open', 'completed']),
  startedAt: z.iso.datetime(),
  dueAt: z.iso.datetime(),
  completedAt: z.iso.datetime().optional(),
  counts: z.object({
    items: z.number().int(),
    certified: z.number().int(),
    revoked: z.number().int().describe('Lapsed items included: both remove the grant'),
    reduced: z.number().int(),
    lapsed: z.number().int(),
    open: z.number().int(),
  }),
  blockedAttempts: z.number().int(),
});

export const CampaignViewSchema = z.object({ ...CampaignSummarySchema.shape, items: z.array(ItemViewSchema) });
export const CampaignListSchema = z.object({ campaigns: z.array(CampaignSummarySchema) });
export const ItemListSchema = z.object({ items: z.array(ItemViewSchema) });

export const ItemDecisionResponseSchema = z.object({
  campaignId: z.string(),
  itemId: z.string(),
  decision: z.string(),
  recorded: z.boolean().describe('False when the same answer had already been recorded (a retried call)'),
  campaignStatus: z.enum(['open', 'completed']),
});
