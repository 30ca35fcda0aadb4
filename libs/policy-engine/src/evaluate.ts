// The decision function. Pure and deterministic: the same bundle and input give the same decision,
// byte for byte, which is what makes provenance, reproduction and backtesting possible.
import type { ApproverSpec, ConstraintsSpec, CredentialType, StageSpec } from './bundle.schema';
import { CREDENTIAL_TYPES } from './bundle.schema';
import type { Bundle, CompiledMatch, CompiledRule, ReasonTemplate } from './bundle.types';
import type { Activation, CompiledCondition } from './cel';
import type {
  Approver,
  Constraints,
  Decision,
  Effect,
  EntitlementVerdict,
  RecordOnlyVerdict,
  RiskFactor,
  RouteStage,
  SodConflict,
} from './decision.types';
import { formatIsoDuration, parseIsoDuration } from './duration';
import type { Entitlement, PolicyInput } from './input.schema';
import { parsePolicyInput } from './input.schema';
import type { Holding } from './sod';
import { matchCombination, toConflict } from './sod';

/** Bumped whenever evaluation semantics change, so a reproduction mismatch can be told apart from tampering. */
export const ENGINE_VERSION = '1';

export type RuleOutcome = 'matched' | 'recorded' | 'skipped_by_match' | 'condition_false' | 'condition_error';
export interface RuleTrace {
  readonly ruleId: string;
  readonly entitlementId: string;
  readonly outcome: RuleOutcome;
  readonly detail?: string;
}

const CREDENTIAL_RANK: ReadonlyMap<CredentialType, number> = new Map(CREDENTIAL_TYPES.map((c, i) => [c, i]));

const matches = (m: CompiledMatch | null, input: PolicyInput, e: Entitlement): boolean =>
  m === null ||
  ((m.subjectKinds === null || m.subjectKinds.has(input.subject.kind)) &&
    (m.environments === null || m.environments.has(e.environment)) &&
    (m.sensitivities === null || m.sensitivities.has(e.sensitivity)) &&
    (m.privileges === null || m.privileges.has(e.privilege)) &&
    (m.systems === null || m.systems.has(e.system)) &&
    (m.emergency === null || m.emergency === input.request.emergency));

const lookup = (root: Activation, path: readonly string[]): unknown => {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
};

const render = (t: ReasonTemplate, a: Activation): string => {
  let s = '';
  for (const part of t) s += typeof part === 'string' ? part : String(lookup(a, part) ?? '?');
  return s;
};

class ConstraintAccumulator {
  maxSeconds: number | null = null;
  credentialType: CredentialType | null = null;
  recertSeconds: number | null = null;
  breakGlass: boolean | null = null;
  review = false;

  maxDuration(seconds: number): void {
    if (this.maxSeconds === null || seconds < this.maxSeconds) this.maxSeconds = seconds;
  }

  add(c: ConstraintsSpec): void {
    if (c.maxDuration !== undefined) this.maxDuration(parseIsoDuration(c.maxDuration) ?? 0);
    if (c.credentialType !== undefined) {
      const current = this.credentialType === null ? Infinity : (CREDENTIAL_RANK.get(this.credentialType) ?? Infinity);
      if ((CREDENTIAL_RANK.get(c.credentialType) ?? Infinity) < current) this.credentialType = c.credentialType;
    }
    if (c.recertificationEvery !== undefined) {
      const s = parseIsoDuration(c.recertificationEvery) ?? 0;
      if (this.recertSeconds === null || s < this.recertSeconds) this.recertSeconds = s;
    }
    // strictest wins: one rule saying "no break-glass" beats any number saying yes
    if (c.breakGlassAllowed !== undefined) this.breakGlass = (this.breakGlass ?? true) && c.breakGlassAllowed;
    if (c.reviewRequired) this.review = true;
  }

  result(): Constraints {
    return {
      maxDuration: this.maxSeconds === null ? null : formatIsoDuration(this.maxSeconds),
      credentialType: this.credentialType,
      recertificationEvery: this.recertSeconds === null ? null : formatIsoDuration(this.recertSeconds),
      breakGlassAllowed: this.breakGlass ?? false,
      reviewRequired: this.review,
    };
  }
}

class RouteAccumulator {
  private readonly stages = new Map<string, { approvers: Map<string, Approver>; quorum: number; seq: number }>();

  add(spec: StageSpec, input: PolicyInput, e: Entitlement | null): void {
    let stage = this.stages.get(spec.name);
    if (!stage) {
      stage = { approvers: new Map(), quorum: spec.quorum, seq: this.stages.size };
      this.stages.set(spec.name, stage);
    } else if (spec.quorum > stage.quorum) stage.quorum = spec.quorum;
    for (const a of spec.approvers) {
      const approver = resolveApprover(a, input, e);
      stage.approvers.set(`${approver.resolver}\0${approver.ref ?? ''}`, approver);
    }
  }

  get size(): number {
    return this.stages.size;
  }

  result(order: readonly string[]): RouteStage[] {
    const rank = (name: string, seq: number): number => {
      const i = order.indexOf(name);
      return i === -1 ? order.length + seq : i;
    };
    return [...this.stages.entries()]
      .sort(([a, x], [b, y]) => rank(a, x.seq) - rank(b, y.seq))
      .map(([name, s]) => ({ name, approvers: [...s.approvers.values()], quorum: s.quorum }));
  }
}

const resolveApprover = (a: ApproverSpec, input: PolicyInput, e: Entitlement | null): Approver => {
  switch (a) {
    case 'manager':
      return { resolver: 'manager', ref: input.subject.manager };
    case 'resource_owner':
      return { resolver: 'resource_owner', ref: e?.owner ?? null };
    case 'nhi_owner':
      return { resolver: 'nhi_owner', ref: input.subject.ownerOfRecord };
    case 'security':
      return { resolver: 'security', ref: null };
    case 'third_party_risk':
      return { resolver: 'third_party_risk', ref: null };
    default:
      return { resolver: 'group', ref: a.slice('group:'.length) };
  }
};

const pushUnique = (xs: string[], x: string): void => {
  if (!xs.includes(x)) xs.push(x);
};

const conditionHolds = (
  rule: CompiledRule,
  activation: Activation,
): { hit: boolean; error: string | null } => {
  if (rule.when === null) return { hit: true, error: null };
  try {
    return { hit: rule.when(activation) === true, error: null };
  } catch (e) {
    // Fail closed: a deny rule whose condition cannot be evaluated counts as matched; anything that
    // would grant or route does not.
    return { hit: rule.effect === 'deny', error: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'error' };
  }
};

const escalationWaived = (unless: CompiledCondition | null, a: Activation): boolean => {
  if (unless === null) return false;
  try {
    return unless(a) === true;
  } catch {
    return false; // cannot tell: escalate
  }
};

/** Validates the input (zod) and evaluates it. */
export const evaluate = (bundle: Bundle, input: unknown): Decision => evaluateValidated(bundle, parsePolicyInput(input));

/** Simulation: the full decision plus a per-rule trace; the engine records nothing anywhere either way. */
export const simulate = (bundle: Bundle, input: unknown): { decision: Decision; trace: RuleTrace[] } => {
  const trace: RuleTrace[] = [];
  const decision = evaluateValidated(bundle, parsePolicyInput(input), trace);
  return { decision, trace };
};

/**
 * Hot path for callers that already hold a validated PolicyInput (the policy service validates at its
 * edge). The input object becomes the provenance snapshot, so callers must not mutate it afterwards.
 */
export const evaluateValidated = (bundle: Bundle, input: PolicyInput, trace?: RuleTrace[]): Decision => {
  const requestedSeconds = input.request.duration === null ? null : parseIsoDuration(input.request.duration);
  const isHuman = input.subject.kind === 'human';
  const request = { ...input.request, durationSeconds: requestedSeconds };
  const subject = { ...input.subject, isHuman, isNhi: !isHuman };
  const now = new Date(input.now);

  const constraints = new ConstraintAccumulator();
  const route = new RouteAccumulator();
  const reasons: string[] = [];
  const denyReasons: string[] = [];
  const matchedRules: string[] = [];
  const recordOnly: RecordOnlyVerdict[] = [];
  const verdicts: EntitlementVerdict[] = [];
  const riskFactors = new Map<string, RiskFactor>();
  const addRisk = (f: RiskFactor): void => {
    const prior = riskFactors.get(f.id);
    if (!prior || prior.weight < f.weight) riskFactors.set(f.id, f);
  };

  let anyDeny = false;
  let anyApproval = false;

  for (const e of input.entitlements) {
    const activation: Activation = {
      request,
      subject,
      requester: input.requester,
      entitlement: e,
      entitlements: input.entitlements,
      grants: input.grants,
      now,
    };
    if (e.maxDuration !== null) constraints.maxDuration(parseIsoDuration(e.maxDuration) ?? 0);
    let denied = false;
    let allowed = false;
    let approval = false;
    const ruleIds: string[] = [];

    for (const rule of bundle.rules) {
      if (!matches(rule.match, input, e)) {
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'skipped_by_match' });
        continue;
      }
      const { hit, error } = conditionHolds(rule, activation);
      if (!hit) {
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: error ? 'condition_error' : 'condition_false', ...(error ? { detail: error } : {}) });
        continue;
      }
      let reason = render(rule.reason, activation);
      if (error) reason = `${reason} (condition could not be evaluated: ${error}; failing closed)`;
      if (rule.mode === 'record') {
        recordOnly.push({ ruleId: rule.id, wouldHave: rule.effect, entitlementId: e.id, reason });
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'recorded' });
        continue;
      }
      trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'matched', ...(error ? { detail: error } : {}) });
      pushUnique(ruleIds, rule.id);
      pushUnique(matchedRules, rule.id);
      switch (rule.effect) {
        case 'deny':
          denied = true;
          pushUnique(denyReasons, reason);
          break;
        case 'auto_approve':
          allowed = true;
          pushUnique(reasons, reason);
          break;
        case 'require_approval':
          allowed = true;
          approval = true;
          for (const s of rule.stages) route.add(s, input, e);
          pushUnique(reasons, reason);
          break;
        case 'constrain':
          pushUnique(reasons, reason);
          break;
      }
      if (rule.constraints) constraints.add(rule.constraints);
      if (rule.risk) addRisk({ id: rule.risk.factor, weight: rule.risk.weight, description: reason });
    }

    for (const f of bundle.riskFactors) {
      if (!matches(f.match, input, e)) continue;
      let hit = true;
      if (f.when) {
        try {
          hit = f.when(activation) === true;
        } catch {
          hit = true; // unknown risk counts as risk
        }
      }
      if (hit) addRisk({ id: f.id, weight: f.weight, description: f.description });
    }

    let effect: Effect;
    if (denied) effect = 'deny';
    else if (!allowed) {
      effect = 'deny';
      pushUnique(denyReasons, `no rule allows ${e.system} ${e.privilege} (${e.environment}, ${e.sensitivity}) for a ${input.subject.kind}: denied by default`);
    } else effect = approval ? 'require_approval' : 'auto_approve';
    if (effect === 'deny') anyDeny = true;
    if (effect === 'require_approval') anyApproval = true;
    verdicts.push({ entitlementId: e.id, effect, matchedRules: ruleIds });
  }

  const requestActivation: Activation = {
    request,
    subject,
    requester: input.requester,
    entitlement: null,
    entitlements: input.entitlements,
    grants: input.grants,
    now,
  };

  // Separation of duties, preventive: what the identity would hold if this request went through.
  const sodConflicts: SodConflict[] = [];
  if (bundle.toxicCombinations.length) {
    const requested = new Set(input.entitlements.map((e) => e.id));
    const holdings: Holding[] = [...input.grants, ...input.entitlements.map((e) => ({ ...e, entitlementId: e.id }))];
    for (const c of bundle.toxicCombinations) {
      const sides = matchCombination(c, holdings);
      if (!sides || !sides.some((ids) => ids.some((id) => requested.has(id)))) continue;
      const conflict = toConflict(c, sides);
      sodConflicts.push(conflict);
      const reason = `separation of duties: ${c.description} (${sides.map((s) => s.join('|')).join(' + ')})`;
      const involved = input.entitlements.find((e) => sides.some((s) => s.includes(e.id)));
      if (c.mode === 'record') {
        recordOnly.push({ ruleId: c.id, wouldHave: c.effect, entitlementId: involved?.id ?? '', reason });
        continue;
      }
      pushUnique(matchedRules, c.id);
      if (c.effect === 'deny') {
        anyDeny = true;
        pushUnique(denyReasons, reason);
      } else {
        anyApproval = true;
        for (const s of c.stages) route.add(s, input, involved ?? null);
        pushUnique(reasons, reason);
      }
    }
  }

  const factors = [...riskFactors.values()].sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
  const score = Math.min(100, factors.reduce((n, f) => n + f.weight, 0));
  if (bundle.escalate && score >= bundle.escalate.atOrAbove && !anyDeny && !escalationWaived(bundle.escalate.unless, requestActivation)) {
    anyApproval = true;
    for (const s of bundle.escalate.stages) route.add(s, input, null);
    pushUnique(reasons, `${bundle.escalate.reason} (risk ${score} ≥ ${bundle.escalate.atOrAbove})`);
  }

  // Duration: the strictest maximum from the entitlements and every matched rule.
  const finalConstraints = constraints.result();
  let effectiveDuration = input.request.duration;
  const max = constraints.maxSeconds;
  if (max !== null && (requestedSeconds === null || requestedSeconds > max)) {
    const asked = input.request.duration ?? 'no expiry';
    if (bundle.settings.onDurationExceeded === 'clamp') {
      effectiveDuration = formatIsoDuration(max);
      if (!anyDeny) pushUnique(reasons, `requested duration ${asked} clamped to the maximum ${effectiveDuration}`);
    } else {
      anyDeny = true;
      pushUnique(denyReasons, `requested duration ${asked} exceeds the maximum ${formatIsoDuration(max)}`);
    }
  }

  const effect: Effect = anyDeny ? 'deny' : anyApproval ? 'require_approval' : 'auto_approve';
  return {
    requestId: input.request.id,
    effect,
    route: effect === 'require_approval' ? route.result(bundle.settings.stageOrder) : [],
    constraints: finalConstraints,
    effectiveDuration: effect === 'deny' ? null : effectiveDuration,
    risk: { score, factors },
    sodConflicts,
    reasons: effect === 'deny' ? [...denyReasons, ...reasons] : reasons,
    matchedRules,
    recordOnly,
    entitlements: verdicts,
    bundleDigest: bundle.digest,
    provenance: {
      bundleName: bundle.name,
      bundleVersion: bundle.version,
      bundleDigest: bundle.digest,
      engineVersion: ENGINE_VERSION,
      input,
    },
  };
};

/** JSON with sorted keys: the comparison form for reproduction and backtests. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

export type Reproduction =
  | { readonly identical: true; readonly decision: Decision }
  | { readonly identical: false; readonly decision: Decision | null; readonly reason: string };

/** Re-evaluates a recorded decision's input snapshot with the bundle it names; must give the same decision. */
export const reproduce = (recorded: Decision, bundle: Bundle): Reproduction => {
  if (recorded.provenance.bundleDigest !== bundle.digest) {
    return {
      identical: false,
      decision: null,
      reason: `decision was made by bundle ${recorded.provenance.bundleDigest}, not ${bundle.digest}`,
    };
  }
  const decision = evaluate(bundle, recorded.provenance.input);
  return canonicalJson(decision) === canonicalJson(recorded)
    ? { identical: true, decision }
    : { identical: false, decision, reason: 'the re-evaluated decision differs from the recorded one' };
};
