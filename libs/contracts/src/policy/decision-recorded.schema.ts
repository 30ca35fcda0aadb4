import { z } from 'zod';
import { IdSchema, IsoDurationSchema, LIMITS, NameSchema, Sha256HexSchema, ShortTextSchema, idListSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const PolicyEffectSchema = z.enum(['deny', 'auto_approve', 'require_approval']);
export type PolicyEffect = z.infer<typeof PolicyEffectSchema>;

export const ApproverResolverSchema = z.enum(['manager', 'resource_owner', 'nhi_owner', 'group', 'security', 'third_party_risk']);
export type ApproverResolver = z.infer<typeof ApproverResolverSchema>;

export const ApproverSpecSchema = z
  .strictObject({
    resolver: ApproverResolverSchema,
    group: IdSchema.optional(),
    /** Filled in by the policy service when it can resolve the approvers at decision time. */
    resolvedIdentityIds: idListSchema().optional(),
  })
  .refine((spec) => (spec.resolver === 'group') === (spec.group !== undefined), {
    message: 'Invalid approver: group is required for, and only for, the group resolver',
    path: ['group'],
  });
export type ApproverSpec = z.infer<typeof ApproverSpecSchema>;

export const ApprovalStageSchema = z
  .strictObject({
    id: IdSchema,
    approvers: z.array(ApproverSpecSchema).min(1).max(20),
    /** How many distinct eligible approvers must approve this stage. */
    quorum: z.number().int().min(1).max(20),
    timeout: IsoDurationSchema.optional(),
  })
  .refine(
    (stage) => {
      // Only checkable when every approver is resolved; otherwise the approval service checks at task time.
      if (stage.approvers.some((approver) => approver.resolvedIdentityIds === undefined)) return true;
      return stage.quorum <= new Set(stage.approvers.flatMap((approver) => approver.resolvedIdentityIds ?? [])).size;
    },
    { message: 'Invalid stage: quorum exceeds the number of resolved approvers', path: ['quorum'] },
  );
export type ApprovalStage = z.infer<typeof ApprovalStageSchema>;

export const ApprovalRouteSchema = z.strictObject({
  stages: z
    .array(ApprovalStageSchema)
    .min(1)
    .max(10)
    .refine((stages) => new Set(stages.map((s) => s.id)).size === stages.length, { message: 'Invalid route: duplicate stage ids' }),
});
export type ApprovalRoute = z.infer<typeof ApprovalRouteSchema>;

export const CredentialTypeSchema = z.enum([
  'none',
  'short_lived_token',
  'api_key',
  'database_role',
  'ssh_certificate',
  'x509_certificate',
  'cloud_role_session',
  'oauth_client',
]);
export type CredentialType = z.infer<typeof CredentialTypeSchema>;

export const DecisionConstraintsSchema = z.strictObject({
  maxDuration: IsoDurationSchema,
  credentialType: CredentialTypeSchema.optional(),
  recertificationEvery: IsoDurationSchema.optional(),
  breakGlassAllowed: z.boolean(),
});
export type DecisionConstraints = z.infer<typeof DecisionConstraintsSchema>;

export const RiskFactorSchema = z.strictObject({
  id: IdSchema,
  weight: z.number().min(0).max(100),
  description: ShortTextSchema,
});
export const RiskSchema = z.strictObject({
  score: z.number().min(0).max(100),
  factors: z.array(RiskFactorSchema).max(50),
});

export const SodConflictSchema = z.strictObject({
  policyId: IdSchema,
  entitlements: idListSchema({ min: 2, max: 50 }),
  description: ShortTextSchema,
});
export type SodConflict = z.infer<typeof SodConflictSchema>;

/** A rule evaluated in record-only (shadow) mode: what it would have said, without affecting the effect. */
export const RecordOnlyVerdictSchema = z.strictObject({
  ruleId: IdSchema,
  effect: PolicyEffectSchema,
  reason: ShortTextSchema,
});

export const DecisionRecordedDataSchema = z
  .strictObject({
    decisionId: IdSchema,
    requestId: IdSchema,
    effect: PolicyEffectSchema,
    route: ApprovalRouteSchema.optional(),
    constraints: DecisionConstraintsSchema,
    risk: RiskSchema,
    sodConflicts: z.array(SodConflictSchema).max(50),
    reasons: z.array(ShortTextSchema).min(1).max(50),
    matchedRules: z.array(IdSchema).max(200),
    recordOnly: z.array(RecordOnlyVerdictSchema).max(200).default([]),
    /** Which engine evaluated it (rego, cedar, cel, builtin), for reproduction. */
    engine: NameSchema.optional(),
    bundleDigest: Sha256HexSchema,
    catalogDigest: Sha256HexSchema.optional(),
    /** The exact engine input, so the decision can be re-run (backtesting) without today's state. */
    inputSnapshot: z.record(z.string(), z.unknown()),
  })
  .refine((decision) => (decision.effect === 'require_approval') === (decision.route !== undefined), {
    message: 'Invalid decision: a route is required for, and only for, require_approval',
    path: ['route'],
  });
export type DecisionRecordedData = z.infer<typeof DecisionRecordedDataSchema>;

export const PolicyFileSchema = z.strictObject({
  path: z.string().min(1).max(LIMITS.shortText),
  content: z.string().max(LIMITS.policyBundleChars),
});

export const BundleLoadedDataSchema = z.strictObject({
  digest: Sha256HexSchema,
  /** Human label (git tag or commit) next to the digest that really identifies it. */
  revision: z.string().min(1).max(LIMITS.name).optional(),
  engine: NameSchema.optional(),
  files: z
    .array(PolicyFileSchema)
    .min(1)
    .max(500)
    .refine((files) => new Set(files.map((f) => f.path)).size === files.length, { message: 'Invalid bundle: duplicate file paths' })
    // One Kafka record (1 MB by default) must hold the whole bundle.
    .refine((files) => files.reduce((total, f) => total + f.content.length, 0) <= LIMITS.policyBundleChars, {
      message: `Too big: a bundle's files must total at most ${LIMITS.policyBundleChars} characters`,
    }),
});
export type BundleLoadedData = z.infer<typeof BundleLoadedDataSchema>;

export const PolicyDecisionRecorded = defineEvent('iga.policy.decision-recorded', 1, TOPICS.decisions, DecisionRecordedDataSchema);
export const PolicyBundleLoaded = defineEvent('iga.policy.bundle-loaded', 1, TOPICS.policyBundles, BundleLoadedDataSchema);
