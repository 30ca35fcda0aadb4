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

/** The fields of v1 (frozen), shared by v2. */
const decisionRecordedV1Shape = {
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
};

const routeOnlyForApproval = {
  check: (decision: { effect: PolicyEffect; route?: ApprovalRoute | undefined }) => (decision.effect === 'require_approval') === (decision.route !== undefined),
  message: 'Invalid decision: a route is required for, and only for, require_approval',
};

/** v1, frozen: a v1 record on the log is read with exactly this. */
export const DecisionRecordedV1DataSchema = z
  .strictObject(decisionRecordedV1Shape)
  .refine(routeOnlyForApproval.check, { message: routeOnlyForApproval.message, path: ['route'] });
export type DecisionRecordedV1Data = z.infer<typeof DecisionRecordedV1DataSchema>;

// The engine's own output, field for field: what v1 summarised (clamped, truncated, mapped onto the approval
// contract) v2 also keeps verbatim, so a decision can be re-evaluated and compared bit for bit (docs/adr/0021).
// Bounds are generous: a decision they cannot carry is refused and recorded as a deny, never cut short.
const EvaluationTextSchema = z.string().max(LIMITS.justification);
const EvaluationListMax = 1000;
const EngineEffectSchema = z.enum(['deny', 'auto_approve', 'require_approval']);

export const EngineDecisionSchema = z.strictObject({
  requestId: z.string().min(1).max(LIMITS.id),
  effect: EngineEffectSchema,
  route: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(LIMITS.name),
        approvers: z.array(z.strictObject({ resolver: ApproverResolverSchema, ref: z.string().max(LIMITS.id).nullable() })).max(EvaluationListMax),
        quorum: z.number().int().min(0).max(EvaluationListMax),
      }),
    )
    .max(EvaluationListMax),
  constraints: z.strictObject({
    maxDuration: z.string().max(LIMITS.name).nullable(),
    credentialType: z.enum(['ephemeral', 'short_lived', 'static']).nullable(),
    recertificationEvery: z.string().max(LIMITS.name).nullable(),
    breakGlassAllowed: z.boolean(),
    reviewRequired: z.boolean(),
  }),
  effectiveDuration: z.string().max(LIMITS.name).nullable(),
  risk: z.strictObject({
    score: z.number(),
    factors: z.array(z.strictObject({ id: z.string().min(1).max(LIMITS.id), weight: z.number(), description: EvaluationTextSchema })).max(EvaluationListMax),
  }),
  sodConflicts: z
    .array(
      z.strictObject({
        combinationId: z.string().min(1).max(LIMITS.id),
        description: EvaluationTextSchema,
        mode: z.enum(['enforce', 'record']),
        effect: z.enum(['deny', 'require_approval']),
        sides: z.array(z.array(z.string().max(LIMITS.id)).max(EvaluationListMax)).max(EvaluationListMax),
      }),
    )
    .max(EvaluationListMax),
  reasons: z.array(EvaluationTextSchema).max(EvaluationListMax),
  matchedRules: z.array(z.string().max(LIMITS.id)).max(EvaluationListMax),
  recordOnly: z
    .array(
      z.strictObject({
        ruleId: z.string().max(LIMITS.id),
        wouldHave: z.enum(['deny', 'auto_approve', 'require_approval', 'constrain']),
        entitlementId: z.string().max(LIMITS.id),
        reason: EvaluationTextSchema,
      }),
    )
    .max(EvaluationListMax),
  entitlements: z
    .array(
      z.strictObject({
        entitlementId: z.string().max(LIMITS.id),
        effect: EngineEffectSchema,
        matchedRules: z.array(z.string().max(LIMITS.id)).max(EvaluationListMax),
      }),
    )
    .max(EvaluationListMax),
  /** As the engine writes it (`sha256:<hex>`). */
  bundleDigest: z.string().min(1).max(LIMITS.name),
});
export type EngineDecision = z.infer<typeof EngineDecisionSchema>;

/**
 * How the decision came about, and so whether it can be reproduced:
 * - `evaluated`: the engine's full output; with `inputSnapshot` (the exact engine input) and the bundle named by
 *   `bundleDigest` it re-evaluates to the same output, byte for byte;
 * - `refused_before_evaluation`: the service refused the request before the engine ran (unknown identity or
 *   entitlement, evaluation or recording failure); `reasons` say why, there is no evaluation to repeat;
 * - `recorded_before_v2`: a v1 record, upcast; v1 dropped part of the evaluation, so it cannot be reproduced.
 */
export const DecisionEvaluationSchema = z.discriminatedUnion('outcome', [
  z.strictObject({
    outcome: z.literal('evaluated'),
    bundleName: z.string().min(1).max(LIMITS.name),
    bundleVersion: z.string().min(1).max(LIMITS.name),
    engineVersion: z.string().min(1).max(LIMITS.name),
    decision: EngineDecisionSchema,
  }),
  z.strictObject({ outcome: z.literal('refused_before_evaluation') }),
  z.strictObject({ outcome: z.literal('recorded_before_v2') }),
]);
export type DecisionEvaluation = z.infer<typeof DecisionEvaluationSchema>;

/** v2: v1 plus the whole evaluation, so a recorded decision can be reproduced from the log (docs/adr/0021). */
export const DecisionRecordedDataSchema = z
  .strictObject({ ...decisionRecordedV1Shape, evaluation: DecisionEvaluationSchema })
  .refine(routeOnlyForApproval.check, { message: routeOnlyForApproval.message, path: ['route'] })
  .refine((decision) => decision.evaluation.outcome !== 'evaluated' || decision.engine === 'cel', {
    message: 'Invalid decision: only the cel engine records an evaluation',
    path: ['evaluation', 'outcome'],
  });
export type DecisionRecordedData = z.infer<typeof DecisionRecordedDataSchema>;

/** v1 → v2: everything v1 said, and that it cannot be reproduced (v1 did not keep the whole evaluation). */
export function upcastDecisionRecordedV1ToV2(previous: unknown): DecisionRecordedData {
  return { ...DecisionRecordedV1DataSchema.parse(previous), evaluation: { outcome: 'recorded_before_v2' } };
}

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

export const PolicyDecisionRecordedV1 = defineEvent('iga.policy.decision-recorded', 1, TOPICS.decisions, DecisionRecordedV1DataSchema);
export const PolicyDecisionRecordedV2 = defineEvent('iga.policy.decision-recorded', 2, TOPICS.decisions, DecisionRecordedDataSchema);
/** The current version: what the policy service writes. */
export const PolicyDecisionRecorded = PolicyDecisionRecordedV2;
export const PolicyBundleLoaded = defineEvent('iga.policy.bundle-loaded', 1, TOPICS.policyBundles, BundleLoadedDataSchema);
