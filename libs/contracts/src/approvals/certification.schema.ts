import { z } from 'zod';
import {
  EnvironmentSchema,
  IdSchema,
  IdentityKindSchema,
  LIMITS,
  SensitivitySchema,
  ShortTextSchema,
  TimestampSchema,
  idListSchema,
} from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

// Recertification (access review) campaigns: the approval service's certification aggregate, one per campaign, keyed
// by the campaign id. Definitions are code (catalog/campaigns); these are the facts of running them.

/**
 * What started a campaign: its cadence (a `campaign_due` timer), a person, or an event that asks for a
 * micro-certification (`grant_recertification`: a grant's own `recertification_due` timer, from the policy decision's
 * `recertificationEvery`).
 */
export const CampaignTriggerSchema = z.enum(['schedule', 'on_demand', 'mover', 'owner_change', 'drift', 'sod_violation', 'grant_recertification']);
export type CampaignTrigger = z.infer<typeof CampaignTriggerSchema>;

/** What an unanswered item leads to at its deadline. */
export const NoAnswerActionSchema = z.enum(['revoke', 'escalate']);
export type NoAnswerAction = z.infer<typeof NoAnswerActionSchema>;

const CommentSchema = z.string().trim().min(1).max(LIMITS.comment);

/** The next run of a definition with a cadence: the scheduler arms a `campaign_due` timer for `campaignId` at `dueAt`. */
export const CampaignScheduledDataSchema = z.strictObject({
  definitionId: IdSchema,
  /** The id the campaign will start under (`<definitionId>:<dueAt>`), so a timer fired twice starts it once. */
  campaignId: IdSchema,
  dueAt: TimestampSchema,
});
export type CampaignScheduledData = z.infer<typeof CampaignScheduledDataSchema>;

/** One grant to certify, as it stood when the campaign started (the snapshot is the campaign's scope). */
export const CertificationItemSchema = z.strictObject({
  itemId: IdSchema,
  grantId: IdSchema,
  requestId: IdSchema,
  beneficiaryId: IdSchema,
  beneficiaryKind: IdentityKindSchema,
  entitlementId: IdSchema,
  systemId: IdSchema,
  sensitivity: SensitivitySchema,
  environment: EnvironmentSchema,
  /** Holds write or admin, or high/critical sensitivity: never escalated on no answer, always revoked. */
  privileged: z.boolean(),
  expiresAt: TimestampSchema,
  /** Already filtered by the four-eyes rules: never the beneficiary, never the owner of an NHI reviewed by someone else. */
  reviewerIds: idListSchema({ min: 1 }),
});
export type CertificationItem = z.infer<typeof CertificationItemSchema>;

export const CampaignStartedDataSchema = z.strictObject({
  campaignId: IdSchema,
  definitionId: IdSchema,
  trigger: CampaignTriggerSchema,
  /** The event that asked for it (timer, identity change, drift, SoD violation); absent when a person started it. */
  triggerEventId: IdSchema.optional(),
  /** Who started an on-demand campaign. */
  startedBy: IdSchema.optional(),
  startedAt: TimestampSchema,
  /** Every item not answered by then gets the definition's `onNoAnswer`. */
  dueAt: TimestampSchema,
  onNoAnswer: NoAnswerActionSchema,
  items: z.array(CertificationItemSchema).max(2000),
});
export type CampaignStartedData = z.infer<typeof CampaignStartedDataSchema>;

export const CertificationDecisionSchema = z.enum(['certify', 'revoke', 'reduce']);
export type CertificationDecision = z.infer<typeof CertificationDecisionSchema>;

/** A reviewer answered one item. `reduce` shortens the grant to `newExpiresAt`; `revoke` removes it now. */
export const CertificationDecidedDataSchema = z
  .strictObject({
    campaignId: IdSchema,
    itemId: IdSchema,
    grantId: IdSchema,
    decision: CertificationDecisionSchema,
    newExpiresAt: TimestampSchema.optional(),
    reviewerId: IdSchema,
    comment: CommentSchema.optional(),
    decidedAt: TimestampSchema,
  })
  .refine((data) => (data.decision === 'reduce') === (data.newExpiresAt !== undefined), {
    message: 'Invalid certification: newExpiresAt is required for, and only for, reduce',
    path: ['newExpiresAt'],
  });
export type CertificationDecidedData = z.infer<typeof CertificationDecidedDataSchema>;

/**
 * An item was not answered by its deadline. `revoke`: provisioning removes the grant. `escalate`: the item is handed
 * to `escalatedToIds` until `dueAt` (a second lapse revokes).
 */
export const CertificationLapsedDataSchema = z
  .strictObject({
    campaignId: IdSchema,
    itemId: IdSchema,
    grantId: IdSchema,
    action: NoAnswerActionSchema,
    previousDueAt: TimestampSchema,
    escalatedToIds: idListSchema({ min: 1 }).optional(),
    dueAt: TimestampSchema.optional(),
    lapsedAt: TimestampSchema,
  })
  .refine((data) => (data.action === 'escalate') === (data.escalatedToIds !== undefined && data.dueAt !== undefined), {
    message: 'Invalid lapse: escalatedToIds and dueAt are required for, and only for, escalate',
    path: ['escalatedToIds'],
  });
export type CertificationLapsedData = z.infer<typeof CertificationLapsedDataSchema>;

/** Every item is closed (answered, or lapsed into a revocation). */
export const CampaignCompletedDataSchema = z.strictObject({
  campaignId: IdSchema,
  definitionId: IdSchema,
  counts: z.strictObject({
    items: z.number().int().min(0),
    certified: z.number().int().min(0),
    revoked: z.number().int().min(0),
    reduced: z.number().int().min(0),
    /** Revoked because nobody answered in time (included in `revoked`). */
    lapsed: z.number().int().min(0),
  }),
  completedAt: TimestampSchema,
});
export type CampaignCompletedData = z.infer<typeof CampaignCompletedDataSchema>;

/** A reviewer tried to answer an item they may not (their own access, or not theirs to review): evidence, and a 403. */
export const CertificationBlockedDataSchema = z.strictObject({
  campaignId: IdSchema,
  itemId: IdSchema,
  attemptedById: IdSchema,
  relation: z.enum(['beneficiary', 'nhi_owner', 'requester', 'not_a_reviewer']),
  reason: ShortTextSchema,
  attemptedAt: TimestampSchema,
});
export type CertificationBlockedData = z.infer<typeof CertificationBlockedDataSchema>;

export const ApprovalCampaignScheduled = defineEvent('iga.approval.campaign-scheduled', 1, TOPICS.approvals, CampaignScheduledDataSchema);
export const ApprovalCampaignStarted = defineEvent('iga.approval.campaign-started', 1, TOPICS.approvals, CampaignStartedDataSchema);
export const ApprovalCertificationDecided = defineEvent('iga.approval.certification-decided', 1, TOPICS.approvals, CertificationDecidedDataSchema);
export const ApprovalCertificationLapsed = defineEvent('iga.approval.certification-lapsed', 1, TOPICS.approvals, CertificationLapsedDataSchema);
export const ApprovalCertificationBlocked = defineEvent('iga.approval.certification-blocked', 1, TOPICS.approvals, CertificationBlockedDataSchema);
export const ApprovalCampaignCompleted = defineEvent('iga.approval.campaign-completed', 1, TOPICS.approvals, CampaignCompletedDataSchema);
