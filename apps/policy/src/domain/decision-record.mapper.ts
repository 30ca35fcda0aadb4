import { LIMITS } from '@grantline/contracts';
import type { ApprovalStage, ApproverSpec, CredentialType, DecisionEvaluation, DecisionRecordedData, SodConflict } from '@grantline/contracts';
import type { Decision, RouteStage } from '@grantline/policy-engine';

/** `iga.policy.decision-recorded` says which evaluator decided: the CEL engine, or the service's own edge checks. */
export type DecisionEngine = 'cel' | 'builtin';

/**
 * The contract needs a positive maxDuration even on a deny. A deny grants nothing, so when no rule set
 * one the smallest positive value is recorded rather than inventing a plausible-looking grant length.
 */
export const NO_ACCESS_DURATION = 'PT1S';
const SHA256_PREFIX = 'sha256:';

/** The engine prefixes its digest with the algorithm; the contract carries bare hex. */
export const digestHex = (digest: string): string => (digest.startsWith(SHA256_PREFIX) ? digest.slice(SHA256_PREFIX.length) : digest);
export const engineDigest = (hex: string): string => (hex.startsWith(SHA256_PREFIX) ? hex : `${SHA256_PREFIX}${hex}`);

const shortText = (text: string): string => (text.length <= LIMITS.shortText ? text : `${text.slice(0, LIMITS.shortText - 1)}…`);

// The engine speaks in credential classes; the contract in concrete credential types. `static` has no single
// concrete type, so it is left for the connector to choose rather than recorded as a guess.
const CREDENTIAL_TYPES: Readonly<Record<string, CredentialType | undefined>> = {
  ephemeral: 'short_lived_token',
  short_lived: 'short_lived_token',
  static: undefined,
};

const toApprovers = (stage: RouteStage): ApproverSpec[] => {
  const approvers: ApproverSpec[] = stage.approvers.slice(0, 20).map((approver) => {
    if (approver.resolver === 'group') return { resolver: 'group', group: approver.ref ?? 'unnamed' };
    return approver.ref === null ? { resolver: approver.resolver } : { resolver: approver.resolver, resolvedIdentityIds: [approver.ref] };
  });
  // When every approver is resolved the contract checks the quorum can be met; if it cannot, the approval
  // service must resolve at task time instead, so the ids are not recorded.
  const allResolved = approvers.every((approver) => approver.resolvedIdentityIds !== undefined);
  const distinct = new Set(approvers.flatMap((approver) => approver.resolvedIdentityIds ?? [])).size;
  if (allResolved && stage.quorum > distinct) return approvers.map(({ resolver, group }) => (group === undefined ? { resolver } : { resolver, group }));
  return approvers;
};

const toStages = (route: readonly RouteStage[]): ApprovalStage[] => {
  const stages = route.slice(0, 10).map((stage) => ({ id: stage.name, approvers: toApprovers(stage), quorum: Math.min(20, Math.max(1, stage.quorum)) }));
  // require_approval with no stage would be unroutable; security is the approver of last resort.
  return stages.length > 0 ? stages : [{ id: 'security', approvers: [{ resolver: 'security' }], quorum: 1 }];
};

const toSodConflicts = (decision: Decision): SodConflict[] =>
  decision.sodConflicts
    .filter((conflict) => conflict.mode === 'enforce')
    .map((conflict) => ({
      policyId: conflict.combinationId,
      entitlements: [...new Set(conflict.sides.flat())].slice(0, 50),
      description: shortText(conflict.description),
    }))
    .filter((conflict) => conflict.entitlements.length >= 2)
    .slice(0, 50);

export interface RecordContext {
  readonly decisionId: string;
  readonly catalogDigest?: string;
}

/**
 * The engine's whole output but the input it echoes (the record carries that once, as `inputSnapshot`): what a
 * reproduction compares field by field. Not copied: the engine builds a fresh output per evaluation, and encoding the
 * envelope parses it into new objects anyway.
 */
export const evaluationOf = (decision: Decision): DecisionEvaluation => {
  const { provenance, ...output } = decision;
  return {
    outcome: 'evaluated',
    bundleName: provenance.bundleName,
    bundleVersion: provenance.bundleVersion,
    engineVersion: provenance.engineVersion,
    decision: output as Extract<DecisionEvaluation, { outcome: 'evaluated' }>['decision'],
  };
};

/** An engine decision as the contract records it: the v1 summary consumers read, the exact input and the whole output. */
export const toDecisionRecorded = (decision: Decision, context: RecordContext): DecisionRecordedData => {
  const credentialType = decision.constraints.credentialType === null ? undefined : CREDENTIAL_TYPES[decision.constraints.credentialType];
  const reasons = decision.reasons.length > 0 ? decision.reasons : [`${decision.effect} by policy`];
  return {
    decisionId: context.decisionId,
    requestId: decision.requestId,
    effect: decision.effect,
    ...(decision.effect === 'require_approval' ? { route: { stages: toStages(decision.route) } } : {}),
    constraints: {
      maxDuration: decision.constraints.maxDuration ?? NO_ACCESS_DURATION,
      ...(credentialType ? { credentialType } : {}),
      ...(decision.constraints.recertificationEvery !== null ? { recertificationEvery: decision.constraints.recertificationEvery } : {}),
      breakGlassAllowed: decision.constraints.breakGlassAllowed,
    },
    risk: {
      score: Math.min(100, Math.max(0, decision.risk.score)),
      factors: decision.risk.factors.slice(0, 50).map((factor) => ({
        id: factor.id,
        weight: Math.min(100, Math.max(0, factor.weight)),
        description: shortText(factor.description),
      })),
    },
    sodConflicts: toSodConflicts(decision),
    reasons: reasons.slice(0, 50).map(shortText),
    matchedRules: decision.matchedRules.slice(0, 200),
    recordOnly: decision.recordOnly
      .flatMap((verdict) =>
        verdict.wouldHave === 'constrain' ? [] : [{ ruleId: verdict.ruleId, effect: verdict.wouldHave, reason: shortText(verdict.reason) }],
      )
      .slice(0, 200),
    engine: 'cel' satisfies DecisionEngine,
    bundleDigest: digestHex(decision.bundleDigest),
    ...(context.catalogDigest !== undefined ? { catalogDigest: context.catalogDigest } : {}),
    inputSnapshot: { ...decision.provenance.input },
    evaluation: evaluationOf(decision),
  };
};

/** A request refused before evaluation (it names what the service cannot resolve): a deny, never a crash. */
export const toRefusalRecorded = (
  refusal: { readonly requestId: string; readonly reasons: readonly string[]; readonly snapshot: Readonly<Record<string, unknown>> },
  context: RecordContext & { readonly bundleDigest: string },
): DecisionRecordedData => ({
  decisionId: context.decisionId,
  requestId: refusal.requestId,
  effect: 'deny',
  constraints: { maxDuration: NO_ACCESS_DURATION, breakGlassAllowed: false },
  risk: { score: 0, factors: [] },
  sodConflicts: [],
  reasons: (refusal.reasons.length > 0 ? refusal.reasons : ['request refused']).slice(0, 50).map(shortText),
  matchedRules: [],
  recordOnly: [],
  engine: 'builtin' satisfies DecisionEngine,
  bundleDigest: digestHex(context.bundleDigest),
  ...(context.catalogDigest !== undefined ? { catalogDigest: context.catalogDigest } : {}),
  inputSnapshot: { ...refusal.snapshot },
  evaluation: { outcome: 'refused_before_evaluation' },
});
