import { z } from 'zod';
import { IdSchema, LIMITS, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * A governance action refused at a service's API (403, or 404 where the object's existence is not revealed): the
 * record of the attempt, which is all an unauthorised call may write. Each service records on a topic it owns
 * (single writer), so there is one event type per writer with one shared shape; the audit reads them all.
 */
export const AccessDeniedDataSchema = z.strictObject({
  principalId: IdSchema,
  principalKind: z.enum(['person', 'workload']),
  /** The Grantline roles the caller held. */
  roles: z.array(z.string().regex(/^[a-z-]{1,40}$/)).max(20),
  /** The refusing service. */
  service: IdSchema,
  /** `POST /v1/identities/:id/offboard`. */
  operation: z.string().min(1).max(300),
  /** `request:req-1`, `identity:alice`; absent for an operation on no one object. */
  objectRef: z
    .string()
    .min(1)
    .max(LIMITS.id + 40)
    .optional(),
  status: z.union([z.literal(403), z.literal(404)]),
  reason: z.string().min(1).max(1_000),
  at: TimestampSchema,
  /** Refusals of this principal by this service not recorded (rate limit) since its previous record. */
  suppressedSincePrevious: z.number().int().nonnegative(),
});
export type AccessDeniedData = z.infer<typeof AccessDeniedDataSchema>;

export const RequestAccessDenied = defineEvent('iga.request.access-denied', 1, TOPICS.requests, AccessDeniedDataSchema);
export const PolicyAccessDenied = defineEvent('iga.policy.access-denied', 1, TOPICS.decisions, AccessDeniedDataSchema);
export const ApprovalAccessDenied = defineEvent('iga.approval.access-denied', 1, TOPICS.approvals, AccessDeniedDataSchema);
export const TimerAccessDenied = defineEvent('iga.timer.access-denied', 1, TOPICS.schedule, AccessDeniedDataSchema);
export const AuditAccessDenied = defineEvent('iga.audit.access-denied', 1, TOPICS.audit, AccessDeniedDataSchema);

/** Every writer's refusal event: the audit projects them into one list. */
export const ACCESS_DENIED_EVENTS = [RequestAccessDenied, PolicyAccessDenied, ApprovalAccessDenied, TimerAccessDenied, AuditAccessDenied] as const;
