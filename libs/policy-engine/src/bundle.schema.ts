// The YAML documents a bundle folder is made of. Every document carries `kind`; a file may hold several
// documents separated by `---`. Conditions are CEL source here; bundle-compiler.ts compiles them.
import { z } from 'zod';
import { NHI_KINDS, SUBJECT_KINDS, environmentSchema, isoDurationSchema, privilegeSchema, sensitivitySchema } from './input.schema';

export const APPROVER_RESOLVERS = ['manager', 'resource_owner', 'nhi_owner', 'security', 'third_party_risk'] as const;
export const CREDENTIAL_TYPES = ['ephemeral', 'short_lived', 'static'] as const;

const ruleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lower-case letters, digits, ".", "_" or "-"');

export const approverSpecSchema = z.union([
  z.enum(APPROVER_RESOLVERS),
  z.string().regex(/^group:[A-Za-z0-9._-]+$/, 'expected manager, resource_owner, nhi_owner, security, third_party_risk or group:<name>'),
]);

export const stageSpecSchema = z.strictObject({
  name: z.string().min(1),
  approvers: z.array(approverSpecSchema).min(1),
  quorum: z.number().int().min(1).default(1),
});

export const constraintsSpecSchema = z.strictObject({
  maxDuration: isoDurationSchema.optional(),
  credentialType: z.enum(CREDENTIAL_TYPES).optional(),
  recertificationEvery: isoDurationSchema.optional(),
  breakGlassAllowed: z.boolean().optional(),
  reviewRequired: z.boolean().optional(),
});

const subjectSelectorSchema = z.enum([...SUBJECT_KINDS, 'nhi']);

// Declarative pre-filter: cheap set lookups that run before any CEL, so most rules are skipped without
// evaluating an expression.
export const matchSpecSchema = z.strictObject({
  subjectKinds: z.array(subjectSelectorSchema).min(1).optional(),
  environments: z.array(environmentSchema).min(1).optional(),
  sensitivities: z.array(sensitivitySchema).min(1).optional(),
  privileges: z.array(privilegeSchema).min(1).optional(),
  systems: z.array(z.string().min(1)).min(1).optional(),
  emergency: z.boolean().optional(),
});

export const ruleSpecSchema = z
  .strictObject({
    id: ruleIdSchema,
    description: z.string().optional(),
    mode: z.enum(['enforce', 'record']).default('enforce'),
    match: matchSpecSchema.optional(),
    when: z.string().min(1).optional(),
    effect: z.enum(['deny', 'auto_approve', 'require_approval', 'constrain']),
    reason: z.string().min(1),
    stages: z.array(stageSpecSchema).min(1).optional(),
    constraints: constraintsSpecSchema.optional(),
    risk: z.strictObject({ factor: z.string().min(1), weight: z.number().int().min(0).max(100) }).optional(),
  })
  .refine((r) => r.effect !== 'require_approval' || (r.stages?.length ?? 0) > 0, {
    message: 'a require_approval rule needs at least one stage',
    path: ['stages'],
  });

export const bundleManifestSchema = z.strictObject({
  kind: z.literal('Bundle'),
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().optional(),
  settings: z
    .strictObject({
      onDurationExceeded: z.enum(['deny', 'clamp']).default('deny'),
      stageOrder: z.array(z.string().min(1)).default([]),
    })
    .default({ onDurationExceeded: 'deny', stageOrder: [] }),
});

export const ruleSetSchema = z.strictObject({
  kind: z.literal('RuleSet'),
  description: z.string().optional(),
  rules: z.array(ruleSpecSchema).min(1),
});

export const entitlementSelectorSchema = z
  .strictObject({
    entitlement: z.string().min(1).optional(),
    system: z.string().min(1).optional(),
    privileges: z.array(privilegeSchema).min(1).optional(),
    environment: environmentSchema.optional(),
  })
  .refine((s) => Object.keys(s).length > 0, { message: 'a selector needs at least one of entitlement, system, privileges, environment' });

export const toxicCombinationSchema = z
  .strictObject({
    id: ruleIdSchema,
    description: z.string().min(1),
    mode: z.enum(['enforce', 'record']).default('enforce'),
    effect: z.enum(['deny', 'require_approval']).default('deny'),
    stages: z.array(stageSpecSchema).min(1).optional(),
    sides: z.array(z.array(entitlementSelectorSchema).min(1)).min(2),
  })
  .refine((c) => c.effect !== 'require_approval' || (c.stages?.length ?? 0) > 0, {
    message: 'a require_approval combination needs at least one stage',
    path: ['stages'],
  });

export const sodPolicySchema = z.strictObject({
  kind: z.literal('SodPolicy'),
  toxicCombinations: z.array(toxicCombinationSchema).min(1),
});

export const riskModelSchema = z.strictObject({
  kind: z.literal('RiskModel'),
  factors: z
    .array(
      z.strictObject({
        id: ruleIdSchema,
        description: z.string().min(1),
        weight: z.number().int().min(1).max(100),
        match: matchSpecSchema.optional(),
        when: z.string().min(1).optional(),
      }),
    )
    .default([]),
  escalate: z
    .strictObject({
      atOrAbove: z.number().int().min(1).max(100),
      reason: z.string().min(1),
      stages: z.array(stageSpecSchema).min(1),
      // CEL; when true the escalation does not apply (e.g. break-glass, which is reviewed afterwards instead)
      unless: z.string().min(1).optional(),
    })
    .optional(),
});

export const bundleDocumentSchema = z.discriminatedUnion('kind', [bundleManifestSchema, ruleSetSchema, sodPolicySchema, riskModelSchema]);

export type ApproverSpec = z.infer<typeof approverSpecSchema>;
export type StageSpec = z.infer<typeof stageSpecSchema>;
export type ConstraintsSpec = z.infer<typeof constraintsSpecSchema>;
export type MatchSpec = z.infer<typeof matchSpecSchema>;
export type RuleSpec = z.infer<typeof ruleSpecSchema>;
export type BundleManifest = z.infer<typeof bundleManifestSchema>;
export type EntitlementSelector = z.infer<typeof entitlementSelectorSchema>;
export type ToxicCombination = z.infer<typeof toxicCombinationSchema>;
export type RiskModelSpec = z.infer<typeof riskModelSchema>;
export type BundleDocument = z.infer<typeof bundleDocumentSchema>;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];
export const NHI_KIND_SET: ReadonlySet<string> = new Set(NHI_KINDS);
