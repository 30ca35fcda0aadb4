// The decision function. Pure and deterministic: the same bundle and input give the same decision,
// byte for byte, which is what makes provenance, reproduction and backtesting possible.
import type { ApproverSpec, ConstraintsSpec, CredentialType, StageSpec } from './bundle.schema';
import { APPROVER_RESOLVERS, CREDENTIAL_TYPES } from './bundle.schema';
import type { Bundle, CompiledMatch, CompiledRule, ReasonTemplate } from './bundle.types';
import type { Activation, CompiledCondition } from './cel';
import { EvaluationLimitExceeded } from './cel.limits';
import type { Approver, Constraints, Decision, Effect, EntitlementVerdict, RecordOnlyVerdict, RiskFactor, RouteStage, SodConflict } from './decision.types';
import { formatIsoDuration, parseIsoDuration } from './duration';
import type { Entitlement, PolicyInput } from './input.schema';
import { ENVIRONMENTS, PRIVILEGES, SENSITIVITIES, SUBJECT_KINDS, parsePolicyInput } from './input.schema';
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

// Durations recur (a handful of distinct strings across all requests and rules): parse and format each
// once. Bounded so hostile inputs cannot grow them without limit.
const MEMO_LIMIT = 1024;
const parsedDurations = new Map<string, number | null>();
const secondsOf = (text: string): number | null => {
  let s = parsedDurations.get(text);
  if (s === undefined) {
    s = parseIsoDuration(text);
    if (parsedDurations.size < MEMO_LIMIT) parsedDurations.set(text, s);
  }
  return s;
};
const formattedDurations = new Map<number, string>();
const isoOf = (seconds: number): string => {
  let s = formattedDurations.get(seconds);
  if (s === undefined) {
    s = formatIsoDuration(seconds);
    if (formattedDurations.size < MEMO_LIMIT) formattedDurations.set(seconds, s);
  }
  return s;
};

// ---------------------------------------------------------------------------------------------------
// Evaluation plan: what can be worked out from the bundle alone, once per bundle (bundles are
// immutable). Rules are indexed by the enumerated pre-filters (subject kind, environment, sensitivity,
// privilege), so a decision only visits the rules that can apply to each entitlement, in bundle order.

/** A rule's constraints with durations and ranks resolved at plan time. */
interface PlannedConstraints {
  readonly maxSeconds: number | null;
  readonly credentialType: CredentialType | null;
  readonly credentialRank: number;
  readonly recertSeconds: number | null;
  readonly breakGlassAllowed: boolean | null;
  readonly reviewRequired: boolean;
}

interface PlannedRule {
  readonly rule: CompiledRule;
  /** The pre-filters not covered by the index. */
  readonly systems: ReadonlySet<string> | null;
  readonly emergency: boolean | null;
  /** The reason when it has no placeholders, rendered once. */
  readonly fixedReason: string | null;
  readonly constraints: PlannedConstraints | null;
  readonly stages: readonly PlannedStage[];
  /** rule.effect and rule.mode as small integers: the strings come from the YAML parser and are not
   * interned, so comparing them on every decision costs more than it should */
  readonly effectCode: EffectCode;
  readonly record: boolean;
}

type EffectCode = 0 | 1 | 2 | 3;
const EFFECT_CODE = { deny: 0, auto_approve: 1, require_approval: 2, constrain: 3 } as const satisfies Record<CompiledRule['effect'], EffectCode>;

/** An approver spec resolved to its resolver once; only the reference is looked up per decision. */
interface PlannedApprover {
  readonly resolver: 'manager' | 'resource_owner' | 'nhi_owner' | 'security' | 'third_party_risk' | 'group';
  /** the group name for `group:<name>` */
  readonly group: string | null;
}

interface PlannedStage {
  readonly name: string;
  readonly quorum: number;
  /** position in the bundle's stageOrder, -1 when it is not listed */
  readonly rank: number;
  readonly approvers: readonly PlannedApprover[];
}

const planApprover = (a: ApproverSpec): PlannedApprover => {
  switch (a) {
    case 'manager':
    case 'resource_owner':
    case 'nhi_owner':
    case 'security':
    case 'third_party_risk':
      return { resolver: APPROVER_RESOLVERS.find((r) => r === a) ?? a, group: null };
    default:
      return { resolver: 'group', group: a.slice('group:'.length) };
  }
};

const planStage = (spec: StageSpec, stageRank: ReadonlyMap<string, number>): PlannedStage => ({
  name: spec.name,
  quorum: spec.quorum,
  rank: stageRank.get(spec.name) ?? -1,
  approvers: spec.approvers.map(planApprover),
});

interface Plan {
  readonly rules: readonly PlannedRule[];
  /** Candidate rules per (kind, environment, sensitivity, privilege), filled on first use. */
  readonly candidates: (readonly PlannedRule[] | undefined)[];
  readonly stageOrderLength: number;
  /** parallel to bundle.toxicCombinations */
  readonly toxicStages: readonly (readonly PlannedStage[])[];
  readonly escalateStages: readonly PlannedStage[];
}

/** Position of each value, the first one when a value repeats (like Array.prototype.indexOf). */
const indexOf = (xs: readonly string[]): ReadonlyMap<string, number> => {
  const m = new Map<string, number>();
  xs.forEach((x, i) => {
    if (!m.has(x)) m.set(x, i);
  });
  return m;
};
const KIND_INDEX = indexOf(SUBJECT_KINDS);
const ENVIRONMENT_INDEX = indexOf(ENVIRONMENTS);
const SENSITIVITY_INDEX = indexOf(SENSITIVITIES);
const PRIVILEGE_INDEX = indexOf(PRIVILEGES);

/** The slot of an input combination, or -1 when a value is outside the enumerations (unvalidated input). */
const slotOf = (kind: string, e: Entitlement): number => {
  const k = KIND_INDEX.get(kind);
  const env = ENVIRONMENT_INDEX.get(e.environment);
  const sens = SENSITIVITY_INDEX.get(e.sensitivity);
  const priv = PRIVILEGE_INDEX.get(e.privilege);
  if (k === undefined || env === undefined || sens === undefined || priv === undefined) return -1;
  return ((k * ENVIRONMENTS.length + env) * SENSITIVITIES.length + sens) * PRIVILEGES.length + priv;
};

const planConstraints = (c: ConstraintsSpec | null): PlannedConstraints | null =>
  c === null
    ? null
    : {
        maxSeconds: c.maxDuration === undefined ? null : (parseIsoDuration(c.maxDuration) ?? 0),
        credentialType: c.credentialType ?? null,
        credentialRank: c.credentialType === undefined ? Infinity : (CREDENTIAL_RANK.get(c.credentialType) ?? Infinity),
        recertSeconds: c.recertificationEvery === undefined ? null : (parseIsoDuration(c.recertificationEvery) ?? 0),
        breakGlassAllowed: c.breakGlassAllowed ?? null,
        reviewRequired: c.reviewRequired === true,
      };

const plans = new WeakMap<Bundle, Plan>();
const planOf = (bundle: Bundle): Plan => {
  let plan = plans.get(bundle);
  if (plan) return plan;
  const stageRank = indexOf(bundle.settings.stageOrder);
  plan = {
    rules: bundle.rules.map((rule) => ({
      rule,
      systems: rule.match?.systems ?? null,
      emergency: rule.match?.emergency ?? null,
      fixedReason: rule.reason.every((p) => typeof p === 'string') ? rule.reason.join('') : null,
      constraints: planConstraints(rule.constraints),
      stages: rule.stages.map((st) => planStage(st, stageRank)),
      effectCode: EFFECT_CODE[rule.effect],
      record: rule.mode === 'record',
    })),
    candidates: new Array<readonly PlannedRule[] | undefined>(SUBJECT_KINDS.length * ENVIRONMENTS.length * SENSITIVITIES.length * PRIVILEGES.length),
    stageOrderLength: bundle.settings.stageOrder.length,
    toxicStages: bundle.toxicCombinations.map((c) => c.stages.map((st) => planStage(st, stageRank))),
    escalateStages: bundle.escalate?.stages.map((st) => planStage(st, stageRank)) ?? [],
  };
  plans.set(bundle, plan);
  return plan;
};

const candidatesFor = (plan: Plan, slot: number, kind: string, e: Entitlement): readonly PlannedRule[] => {
  let list = plan.candidates[slot];
  if (list === undefined) {
    list = plan.rules.filter(
      ({ rule: { match: m } }) =>
        m === null ||
        ((m.subjectKinds === null || m.subjectKinds.has(kind)) &&
          (m.environments === null || m.environments.has(e.environment)) &&
          (m.sensitivities === null || m.sensitivities.has(e.sensitivity)) &&
          (m.privileges === null || m.privileges.has(e.privilege))),
    );
    plan.candidates[slot] = list;
  }
  return list;
};

class ConstraintAccumulator {
  maxSeconds: number | null = null;
  credentialType: CredentialType | null = null;
  credentialRank = Infinity;
  recertSeconds: number | null = null;
  breakGlass: boolean | null = null;
  review = false;

  maxDuration(seconds: number): void {
    if (this.maxSeconds === null || seconds < this.maxSeconds) this.maxSeconds = seconds;
  }

  add(c: PlannedConstraints): void {
    if (c.maxSeconds !== null) this.maxDuration(c.maxSeconds);
    if (c.credentialType !== null && c.credentialRank < this.credentialRank) {
      this.credentialType = c.credentialType;
      this.credentialRank = c.credentialRank;
    }
    if (c.recertSeconds !== null && (this.recertSeconds === null || c.recertSeconds < this.recertSeconds)) {
      this.recertSeconds = c.recertSeconds;
    }
    // strictest wins: one rule saying "no break-glass" beats any number saying yes
    if (c.breakGlassAllowed !== null) this.breakGlass = (this.breakGlass ?? true) && c.breakGlassAllowed;
    if (c.reviewRequired) this.review = true;
  }

  result(): Constraints {
    return {
      maxDuration: this.maxSeconds === null ? null : isoOf(this.maxSeconds),
      credentialType: this.credentialType,
      recertificationEvery: this.recertSeconds === null ? null : isoOf(this.recertSeconds),
      breakGlassAllowed: this.breakGlass ?? false,
      reviewRequired: this.review,
    };
  }
}

interface StageDraft {
  readonly name: string;
  readonly approvers: Approver[];
  quorum: number;
  readonly rank: number;
}

/** Stages by name (few per decision, so arrays and linear scans beat maps of maps). */
class RouteAccumulator {
  private readonly stages: StageDraft[] = [];

  constructor(private readonly plan: Plan) {}

  add(spec: PlannedStage, input: PolicyInput, e: Entitlement | null): void {
    let stage: StageDraft | undefined;
    for (const s of this.stages) if (s.name === spec.name) stage = s;
    if (!stage) {
      stage = { name: spec.name, approvers: [], quorum: spec.quorum, rank: spec.rank === -1 ? this.plan.stageOrderLength + this.stages.length : spec.rank };
      this.stages.push(stage);
    } else if (spec.quorum > stage.quorum) stage.quorum = spec.quorum;
    for (const a of spec.approvers) {
      const approver = resolveApprover(a, input, e);
      // one approver per resolver and reference, at its first-seen position (the latest copy, as a map would keep)
      const list = stage.approvers;
      let at = -1;
      for (let i = 0; i < list.length; i++) if (list[i]!.resolver === approver.resolver && (list[i]!.ref ?? '') === (approver.ref ?? '')) at = i;
      if (at === -1) list.push(approver);
      else list[at] = approver;
    }
  }

  result(): RouteStage[] {
    // ranks are distinct (a stageOrder position, or past the end in first-seen order): a total order.
    // A handful of stages: insertion sort in place (the accumulator is done after this).
    const a = this.stages;
    for (let i = 1; i < a.length; i++) {
      const x = a[i]!;
      let j = i - 1;
      while (j >= 0 && a[j]!.rank > x.rank) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = x;
    }
    const out: RouteStage[] = [];
    for (const s of a) out.push({ name: s.name, approvers: s.approvers, quorum: s.quorum });
    return out;
  }
}

const resolveApprover = (a: PlannedApprover, input: PolicyInput, e: Entitlement | null): Approver => {
  switch (a.resolver) {
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
    case 'group':
      return { resolver: 'group', ref: a.group };
  }
};

const pushUnique = (xs: string[], x: string): void => {
  if (!xs.includes(x)) xs.push(x);
};

const errorLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'error';

const escalationWaived = (
  unless: CompiledCondition | null,
  input: PolicyInput,
  requestedSeconds: number | null,
  activation: MutableActivation | null,
): boolean => {
  if (unless === null) return false;
  // the waiver is about the request as a whole: no current entitlement
  const a = activation ?? activationOf(input, requestedSeconds);
  a.entitlement = null;
  try {
    return unless(a) === true;
  } catch (err) {
    if (err instanceof EvaluationLimitExceeded) throw err.at('escalate.unless');
    return false; // cannot tell: escalate
  }
};

// Decisions usually share `now` with the previous one (a batch, a replay, a burst): parse it once.
let lastNow: { readonly text: string; readonly date: Date } | null = null;
const timestampOf = (text: string): Date => {
  if (lastNow?.text !== text) lastNow = { text, date: new Date(text) };
  return lastNow.date;
};

/** Validates the input (zod) and evaluates it. */
export const evaluate = (bundle: Bundle, input: unknown): Decision => evaluateValidated(bundle, parsePolicyInput(input));

/** Simulation: the full decision plus a per-rule trace; the engine records nothing anywhere either way. */
export const simulate = (bundle: Bundle, input: unknown): { decision: Decision; trace: RuleTrace[] } => {
  const trace: RuleTrace[] = [];
  const decision = evaluateValidated(bundle, parsePolicyInput(input), trace);
  return { decision, trace };
};

/** The CEL activation of one decision, reused across its entitlements (evaluation is synchronous). */
interface MutableActivation {
  request: PolicyInput['request'] & { durationSeconds: number | null };
  subject: PolicyInput['subject'] & { isHuman: boolean; isNhi: boolean };
  requester: PolicyInput['requester'];
  entitlement: Entitlement | null;
  entitlements: PolicyInput['entitlements'];
  grants: PolicyInput['grants'];
  now: Date;
}

// A plain data object (CEL reads variables with keyed loads, which stay fast on data properties), made
// only when a decision first evaluates a condition or renders a placeholder: the derived request and
// subject views are copies, and many decisions need neither.
const activationOf = (input: PolicyInput, requestedSeconds: number | null): MutableActivation => {
  const isHuman = input.subject.kind === 'human';
  return {
    request: { ...input.request, durationSeconds: requestedSeconds },
    subject: { ...input.subject, isHuman, isNhi: !isHuman },
    requester: input.requester,
    entitlement: null,
    entitlements: input.entitlements,
    grants: input.grants,
    now: timestampOf(input.now),
  };
};

/**
 * Hot path for callers that already hold a validated PolicyInput (the policy service validates at its
 * edge). The input object becomes the provenance snapshot, so callers must not mutate it afterwards.
 */
export const evaluateValidated = (bundle: Bundle, input: PolicyInput, trace?: RuleTrace[]): Decision => {
  // A draft's conditions are metered per decision: this one starts from zero.
  bundle.budget?.start();
  const plan = planOf(bundle);
  const requestedSeconds = input.request.duration === null ? null : secondsOf(input.request.duration);
  let activation: MutableActivation | null = null;

  const constraints = new ConstraintAccumulator();
  const route = new RouteAccumulator(plan);
  const reasons: string[] = [];
  const denyReasons: string[] = [];
  const matchedRules: string[] = [];
  const recordOnly: RecordOnlyVerdict[] = [];
  const verdicts: EntitlementVerdict[] = [];
  let riskFactors: Map<string, RiskFactor> | null = null;
  const addRisk = (f: RiskFactor): void => {
    riskFactors ??= new Map();
    const prior = riskFactors.get(f.id);
    if (!prior || prior.weight < f.weight) riskFactors.set(f.id, f);
  };

  let anyDeny = false;
  let anyApproval = false;
  const kind = input.subject.kind;
  const emergency = input.request.emergency;

  for (const e of input.entitlements) {
    if (e.maxDuration !== null) constraints.maxDuration(secondsOf(e.maxDuration) ?? 0);
    let denied = false;
    let allowed = false;
    let approval = false;
    const ruleIds: string[] = [];

    // A trace reports every rule, and input outside the enumerations has no index slot: both walk all rules.
    const slot = trace === undefined ? slotOf(kind, e) : -1;
    const all = slot === -1;
    const candidates = all ? plan.rules : candidatesFor(plan, slot, kind, e);
    for (let r = 0; r < candidates.length; r++) {
      const p = candidates[r]!;
      const rule = p.rule;
      if (all ? !matches(rule.match, input, e) : !((p.systems === null || p.systems.has(e.system)) && (p.emergency === null || p.emergency === emergency))) {
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'skipped_by_match' });
        continue;
      }
      let hit = true;
      let error: string | null = null;
      if (rule.when !== null) {
        activation ??= activationOf(input, requestedSeconds);
        activation.entitlement = e;
        try {
          hit = rule.when(activation) === true;
        } catch (err) {
          // A draft over its evaluation limit has no decision to fail closed to: the whole evaluation stops.
          if (err instanceof EvaluationLimitExceeded) throw err.at(`rule "${rule.id}"`);
          // Fail closed: a deny rule whose condition cannot be evaluated counts as matched; anything that
          // would grant or route does not.
          hit = rule.effect === 'deny';
          error = errorLine(err);
        }
      }
      if (!hit) {
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: error ? 'condition_error' : 'condition_false', ...(error ? { detail: error } : {}) });
        continue;
      }
      let reason = p.fixedReason;
      if (reason === null) {
        activation ??= activationOf(input, requestedSeconds);
        activation.entitlement = e;
        reason = render(rule.reason, activation);
      }
      if (error) reason = `${reason} (condition could not be evaluated: ${error}; failing closed)`;
      if (p.record) {
        recordOnly.push({ ruleId: rule.id, wouldHave: rule.effect, entitlementId: e.id, reason });
        trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'recorded' });
        continue;
      }
      trace?.push({ ruleId: rule.id, entitlementId: e.id, outcome: 'matched', ...(error ? { detail: error } : {}) });
      pushUnique(ruleIds, rule.id);
      pushUnique(matchedRules, rule.id);
      switch (p.effectCode) {
        case EFFECT_CODE.deny:
          denied = true;
          pushUnique(denyReasons, reason);
          break;
        case EFFECT_CODE.auto_approve:
          allowed = true;
          pushUnique(reasons, reason);
          break;
        case EFFECT_CODE.require_approval:
          allowed = true;
          approval = true;
          for (const st of p.stages) route.add(st, input, e);
          pushUnique(reasons, reason);
          break;
        case EFFECT_CODE.constrain:
          pushUnique(reasons, reason);
          break;
      }
      if (p.constraints) constraints.add(p.constraints);
      if (rule.risk) addRisk({ id: rule.risk.factor, weight: rule.risk.weight, description: reason });
    }

    for (const f of bundle.riskFactors) {
      if (!matches(f.match, input, e)) continue;
      let hit = true;
      if (f.when) {
        activation ??= activationOf(input, requestedSeconds);
        activation.entitlement = e;
        try {
          hit = f.when(activation) === true;
        } catch (err) {
          if (err instanceof EvaluationLimitExceeded) throw err.at(`risk factor "${f.id}"`);
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

  // Separation of duties, preventive: what the identity would hold if this request went through.
  const sodConflicts: SodConflict[] = [];
  if (bundle.toxicCombinations.length) {
    const requested = new Set(input.entitlements.map((e) => e.id));
    const holdings: Holding[] = [...input.grants, ...input.entitlements.map((e) => ({ ...e, entitlementId: e.id }))];
    for (let ci = 0; ci < bundle.toxicCombinations.length; ci++) {
      const c = bundle.toxicCombinations[ci]!;
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
        for (const st of plan.toxicStages[ci]!) route.add(st, input, involved ?? null);
        pushUnique(reasons, reason);
      }
    }
  }

  const factors: RiskFactor[] = riskFactors === null ? [] : [...(riskFactors as Map<string, RiskFactor>).values()];
  if (factors.length > 1) factors.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
  let score = 0;
  for (const f of factors) score += f.weight;
  score = Math.min(100, score);
  if (bundle.escalate && score >= bundle.escalate.atOrAbove && !anyDeny && !escalationWaived(bundle.escalate.unless, input, requestedSeconds, activation)) {
    anyApproval = true;
    for (const st of plan.escalateStages) route.add(st, input, null);
    pushUnique(reasons, `${bundle.escalate.reason} (risk ${score} ≥ ${bundle.escalate.atOrAbove})`);
  }

  // Duration: the strictest maximum from the entitlements and every matched rule.
  const finalConstraints = constraints.result();
  let effectiveDuration = input.request.duration;
  const max = constraints.maxSeconds;
  if (max !== null && (requestedSeconds === null || requestedSeconds > max)) {
    const asked = input.request.duration ?? 'no expiry';
    if (bundle.settings.onDurationExceeded === 'clamp') {
      effectiveDuration = isoOf(max);
      if (!anyDeny) pushUnique(reasons, `requested duration ${asked} clamped to the maximum ${effectiveDuration}`);
    } else {
      anyDeny = true;
      pushUnique(denyReasons, `requested duration ${asked} exceeds the maximum ${isoOf(max)}`);
    }
  }

  const effect: Effect = anyDeny ? 'deny' : anyApproval ? 'require_approval' : 'auto_approve';
  return {
    requestId: input.request.id,
    effect,
    route: effect === 'require_approval' ? route.result() : [],
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
  { readonly identical: true; readonly decision: Decision } | { readonly identical: false; readonly decision: Decision | null; readonly reason: string };

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
