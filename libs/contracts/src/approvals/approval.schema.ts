import { z } from 'zod';
import { IdSchema, IsoDurationSchema, LIMITS, ShortTextSchema, TicketRefSchema, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

const CommentSchema = z.string().trim().min(1).max(LIMITS.comment);

export const TaskOpenedDataSchema = z.strictObject({
  taskId: IdSchema,
  requestId: IdSchema,
  stageId: IdSchema,
  /** Already filtered: never the requester, the beneficiary, or the beneficiary NHI's owner. */
  eligibleApproverIds: idListSchema({ min: 1 }),
  quorum: z.number().int().min(1).max(20),
  dueAt: TimestampSchema,
  /** Set when the task replaces an escalated one. */
  escalatedFromTaskId: IdSchema.optional(),
});
export type TaskOpenedData = z.infer<typeof TaskOpenedDataSchema>;

export const ApprovalDecisionRecordedDataSchema = z.strictObject({
  taskId: IdSchema,
  requestId: IdSchema,
  stageId: IdSchema,
  approverId: IdSchema,
  /** When acting for someone else: the delegator, for the evidence trail. */
  onBehalfOfId: IdSchema.optional(),
  decision: z.enum(['approve', 'deny']),
  comment: CommentSchema.optional(),
});
export type ApprovalDecisionRecordedData = z.infer<typeof ApprovalDecisionRecordedDataSchema>;

export const GrantToCreateSchema = z.strictObject({
  grantId: IdSchema,
  entitlementId: IdSchema,
  /** Every grant ends: the earliest of the request, the policy maximum and the entitlement maximum. */
  expiresAt: TimestampSchema,
});

export const RequestApprovedDataSchema = z.strictObject({
  requestId: IdSchema,
  beneficiaryId: IdSchema,
  grants: z.array(GrantToCreateSchema).min(1).max(50),
  basis: z.strictObject({
    kind: z.enum(['auto_approved', 'approvals', 'break_glass']),
    decisionId: IdSchema,
    /** The approvals that satisfied each stage's quorum (empty when auto-approved). */
    approvals: z.array(z.strictObject({ taskId: IdSchema, stageId: IdSchema, approverId: IdSchema, decidedAt: TimestampSchema })).max(100),
  }),
  recertificationEvery: IsoDurationSchema.optional(),
});
export type RequestApprovedData = z.infer<typeof RequestApprovedDataSchema>;

export const RequestDeniedDataSchema = z.strictObject({
  requestId: IdSchema,
  basis: z.enum(['policy', 'approver', 'timeout', 'sod_conflict']),
  decisionId: IdSchema.optional(),
  deniedBy: IdSchema.optional(),
  reasons: z.array(ShortTextSchema).min(1).max(50),
});
export type RequestDeniedData = z.infer<typeof RequestDeniedDataSchema>;

export const EscalatedDataSchema = z.strictObject({
  taskId: IdSchema,
  requestId: IdSchema,
  stageId: IdSchema,
  reason: z.enum(['deadline_passed', 'no_eligible_approver', 'approver_unavailable']),
  escalatedToIds: idListSchema({ min: 1 }),
  newTaskId: IdSchema,
});
export type EscalatedData = z.infer<typeof EscalatedDataSchema>;

/** The audit record of a refused self-approval (the HTTP 403), so attempts are visible, not just blocked. */
export const SelfApprovalBlockedDataSchema = z.strictObject({
  taskId: IdSchema,
  requestId: IdSchema,
  attemptedById: IdSchema,
  relation: z.enum(['requester', 'beneficiary', 'nhi_owner', 'beneficiary_manager_chain']),
  attemptedAt: TimestampSchema,
});
export type SelfApprovalBlockedData = z.infer<typeof SelfApprovalBlockedDataSchema>;

export const BreakGlassGrantedDataSchema = z.strictObject({
  requestId: IdSchema,
  beneficiaryId: IdSchema,
  incidentRef: TicketRefSchema,
  grants: z.array(GrantToCreateSchema).min(1).max(50),
  /** The post-incident review must be completed by this time. */
  reviewDueAt: TimestampSchema,
  decisionId: IdSchema,
});
export type BreakGlassGrantedData = z.infer<typeof BreakGlassGrantedDataSchema>;

export const ReviewOpenedDataSchema = z.strictObject({
  reviewId: IdSchema,
  kind: z.enum(['break_glass_post_incident', 'recertification']),
  requestId: IdSchema.optional(),
  grantIds: idListSchema({ min: 1 }),
  reviewerIds: idListSchema({ min: 1 }),
  dueAt: TimestampSchema,
});
export type ReviewOpenedData = z.infer<typeof ReviewOpenedDataSchema>;

export const ApprovalTaskOpened = defineEvent('iga.approval.task-opened', 1, TOPICS.approvals, TaskOpenedDataSchema);
export const ApprovalDecisionRecorded = defineEvent('iga.approval.decision-recorded', 1, TOPICS.approvals, ApprovalDecisionRecordedDataSchema);
export const ApprovalRequestApproved = defineEvent('iga.approval.request-approved', 1, TOPICS.approvals, RequestApprovedDataSchema);
export const ApprovalRequestDenied = defineEvent('iga.approval.request-denied', 1, TOPICS.approvals, RequestDeniedDataSchema);
export const ApprovalEscalated = defineEvent('iga.approval.escalated', 1, TOPICS.approvals, EscalatedDataSchema);
export const ApprovalSelfApprovalBlocked = defineEvent('iga.approval.self-approval-blocked', 1, TOPICS.approvals, SelfApprovalBlockedDataSchema);
export const ApprovalBreakGlassGranted = defineEvent('iga.approval.break-glass-granted', 1, TOPICS.approvals, BreakGlassGrantedDataSchema);
export const ApprovalReviewOpened = defineEvent('iga.approval.review-opened', 1, TOPICS.approvals, ReviewOpenedDataSchema);
