import { z } from 'zod';
import { IdSchema, LIMITS } from '@grantline/contracts';

export const TaskDecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  comment: z.string().trim().min(1).max(LIMITS.comment).optional(),
});
export type TaskDecisionBody = z.infer<typeof TaskDecisionBodySchema>;

/** `approverId` is optional: the list is always the caller's own (the edge refuses any other id before this). */
export const TasksQuerySchema = z.object({ approverId: IdSchema.optional() });

const GrantPlanSchema = z.object({ grantId: z.string(), entitlementId: z.string(), expiresAt: z.iso.datetime() });

/** Exactly what the approver is asked to approve, from the approval service's own state (request, decision, catalogue). */
export const TaskScopeSchema = z.object({
  subject: z.object({ id: z.string(), kind: z.string() }),
  requesterId: z.string(),
  entitlements: z.array(
    z.object({
      entitlementId: z.string(),
      name: z.string().optional(),
      systemId: z.string().optional(),
      environment: z.string().optional(),
      privileges: z.array(z.string()),
      sensitivity: z.string().optional(),
      ownerId: z.string().optional(),
      maxDuration: z.string().optional().describe("The catalogue's cap on any grant of it"),
      unknown: z.literal(true).optional().describe('The catalogue held by the service does not know it'),
    }),
  ),
  accessPackageId: z.string().optional(),
  duration: z.string().optional().describe('As requested (ISO 8601)'),
  endsAt: z.iso.datetime().optional().describe('As requested, when an absolute end was asked for'),
  maxDuration: z.string().optional().describe("The policy decision's maximum"),
  justification: z.string().optional(),
  ticket: z.object({ system: z.string(), id: z.string(), url: z.string().optional() }).optional(),
  breakGlass: z.boolean(),
  submittedAt: z.iso.datetime().optional(),
  risk: z.object({ score: z.number(), factors: z.array(z.object({ id: z.string(), weight: z.number(), description: z.string() })) }),
  sodConflicts: z.array(z.object({ policyId: z.string(), entitlements: z.array(z.string()), description: z.string() })),
  decision: z.object({ decisionId: z.string(), reasons: z.array(z.string()), matchedRules: z.array(z.string()), bundleDigest: z.string() }).optional(),
  lineage: z
    .array(
      z.object({
        requestId: z.string(),
        submittedAt: z.iso.datetime(),
        status: z.string(),
        endedAt: z.iso.datetime().optional(),
        entitlementIds: z.array(z.string()).describe('The entitlements it shares with this request'),
        grants: z.array(GrantPlanSchema).optional(),
        deniedReasons: z.array(z.string()).optional(),
      }),
    )
    .describe('Earlier requests of the same subject for the same entitlements, newest first'),
});

export const TaskViewSchema = z.object({
  taskId: z.string(),
  requestId: z.string(),
  stageId: z.string(),
  status: z.enum(['open', 'approved', 'denied', 'escalated', 'closed']),
  quorum: z.number().int(),
  approvals: z.number().int(),
  eligibleApproverIds: z.array(z.string()),
  dueAt: z.iso.datetime(),
  escalatedFromTaskId: z.string().optional(),
  scope: TaskScopeSchema.optional(),
});
export const TaskListSchema = z.object({ tasks: z.array(TaskViewSchema) });

export const RequestApprovalStatusSchema = z.enum(['awaiting_request', 'awaiting_decision', 'pending', 'withdrawn', 'approved', 'denied', 'break_glass']);

export const DirectoryGapSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('identity'), identityId: z.string(), role: z.enum(['beneficiary', 'nhi_owner']) }),
  z.object({ kind: z.literal('access_package'), accessPackageId: z.string() }),
  z.object({ kind: z.literal('entitlement'), entitlementId: z.string() }),
]);

/** A request's approval state as its approvers, requester and auditors read it. */
export const RequestViewSchema = z.object({
  requestId: z.string(),
  status: RequestApprovalStatusSchema,
  tasks: z.array(TaskViewSchema),
  blockedAttempts: z.number().int().describe('Refused attempts to approve it (self-approval, not eligible)'),
  waitingForDirectory: z
    .array(DirectoryGapSchema)
    .optional()
    .describe('Present while the route waits for identities or catalogue entries the directory does not hold yet'),
  scope: TaskScopeSchema.optional(),
});

export const DecisionResponseSchema = z.object({
  taskId: z.string(),
  requestId: z.string(),
  decision: z.enum(['approve', 'deny']),
  recorded: z.boolean().describe('False when the same answer had already been recorded (a retried call)'),
  requestStatus: RequestApprovalStatusSchema,
});
