// The engine's own input language. libs/contracts events are mapped onto it at the service edge, so the
// engine never changes because an event grew a field.
import { z } from 'zod';
import { isIsoDuration } from './duration';

export const NHI_KINDS = ['service_account', 'api_key', 'workload', 'ci_pipeline', 'ai_agent'] as const;
export const SUBJECT_KINDS = ['human', ...NHI_KINDS] as const;
export const SENSITIVITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ENVIRONMENTS = ['prod', 'nonprod'] as const;
export const PRIVILEGES = ['read', 'write', 'admin'] as const;

export const isoDurationSchema = z.string().refine(isIsoDuration, {
  message: 'expected an ISO 8601 duration such as PT4H or P30D (no years or months)',
});
const isoInstantSchema = z.iso.datetime({ offset: true });

export const subjectKindSchema = z.enum(SUBJECT_KINDS);
export const sensitivitySchema = z.enum(SENSITIVITIES);
export const environmentSchema = z.enum(ENVIRONMENTS);
export const privilegeSchema = z.enum(PRIVILEGES);

const attributesSchema = z.record(z.string(), z.unknown());

export const entitlementSchema = z.object({
  id: z.string().min(1),
  system: z.string().min(1),
  sensitivity: sensitivitySchema,
  environment: environmentSchema,
  owner: z.string().min(1).nullable().default(null),
  privilege: privilegeSchema,
  maxDuration: isoDurationSchema.nullable().default(null),
  attributes: attributesSchema.default({}),
});

export const grantSchema = z.object({
  entitlementId: z.string().min(1),
  system: z.string().min(1),
  privilege: privilegeSchema,
  environment: environmentSchema,
  status: z.enum(['active', 'pending']),
  expiresAt: isoInstantSchema.nullable().default(null),
});

export const subjectSchema = z.object({
  id: z.string().min(1),
  kind: subjectKindSchema,
  team: z.string().nullable().default(null),
  // humans have a manager; non-human identities have an owner of record (a human accountable for them)
  manager: z.string().nullable().default(null),
  ownerOfRecord: z.string().nullable().default(null),
  attributes: attributesSchema.default({}),
  /**
   * The post-incident reviews of the subject's earlier break-glass uses not completed yet (review ids), from the
   * approvals log. Absent in inputs recorded before it existed: read it as none.
   */
  openBreakGlassReviews: z.array(z.string().min(1)).optional(),
});

/**
 * How the requester stands to the beneficiary, from the identity directory at request time: the person themselves,
 * their manager, the NHI's owner of record, or none. Requesting for someone else is policy's decision, so it is input.
 */
export const requesterRelationSchema = z.enum(['self', 'manager', 'nhi_owner', 'none']);

export const requesterSchema = z.object({
  id: z.string().min(1),
  kind: subjectKindSchema.default('human'),
  attributes: attributesSchema.default({}),
  relation: requesterRelationSchema.default('self'),
});

export const requestSchema = z.object({
  id: z.string().min(1),
  package: z.string().nullable().default(null),
  // null = "until revoked": a standing grant, which guardrails refuse for machines
  duration: isoDurationSchema.nullable().default(null),
  justification: z.string().default(''),
  ticket: z.string().nullable().default(null),
  emergency: z.boolean().default(false),
  source: z.string().default('portal'),
});

export const policyInputSchema = z.object({
  request: requestSchema,
  subject: subjectSchema,
  requester: requesterSchema,
  entitlements: z.array(entitlementSchema).min(1),
  grants: z.array(grantSchema).default([]),
  now: isoInstantSchema,
});

export type SubjectKind = z.infer<typeof subjectKindSchema>;
export type Sensitivity = z.infer<typeof sensitivitySchema>;
export type Environment = z.infer<typeof environmentSchema>;
export type Privilege = z.infer<typeof privilegeSchema>;
export type Entitlement = z.infer<typeof entitlementSchema>;
export type Grant = z.infer<typeof grantSchema>;
export type Subject = z.infer<typeof subjectSchema>;
export type Requester = z.infer<typeof requesterSchema>;
export type RequesterRelation = z.infer<typeof requesterRelationSchema>;
export type PolicyRequest = z.infer<typeof requestSchema>;
/** Validated input, defaults applied. */
export type PolicyInput = z.infer<typeof policyInputSchema>;
/** What a caller may send: optional fields may be omitted. */
export type PolicyInputDraft = z.input<typeof policyInputSchema>;

export const parsePolicyInput = (raw: unknown): PolicyInput => policyInputSchema.parse(raw);
