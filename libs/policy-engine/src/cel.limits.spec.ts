// Untrusted CEL (a draft bundle) is bounded when compiled and while it runs; the shipped bundle is not touched.
import { resolve } from 'node:path';
import { BacktestAccumulator, MAX_LISTED_ERRORS } from './backtest';
import { loadBundleFromFiles, lintBundleFiles } from './bundle-compiler';
import { readBundleDirectory } from './bundle-loader';
import { compileCondition } from './cel';
import type { Activation } from './cel';
import { DRAFT_LIMITS, EvaluationBudget, EvaluationLimitExceeded } from './cel.limits';
import type { DraftLimits } from './cel.limits';
import { evaluate, simulate } from './evaluate';
import { entitlement, humanInput, nhiInput } from './testing/policy-fixtures';

const POLICIES = resolve(__dirname, '../../../policies');
const MANIFEST = {
  path: 'bundle.yaml',
  content: 'kind: Bundle\nname: draft\nversion: "1"\nsettings:\n  onDurationExceeded: deny\n  stageOrder: [manager, resource_owner, security]\n',
};
const listOf = (n: number): string => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
const LIST = listOf(DRAFT_LIMITS.cel.maxListElements);
/** About half a million steps: within the compile-time limits, half of what one decision may evaluate. */
const HALF_BUDGET = `${LIST}.all(a, ${LIST}.all(b, a + b >= 0))`;

const activation: Activation = {
  request: {},
  subject: { id: 'alice' },
  requester: {},
  entitlement: null,
  entitlements: [],
  grants: [],
  now: new Date('2025-06-02T10:00:00Z'),
};
const draft = (source: string, budget = new EvaluationBudget(DRAFT_LIMITS.evaluation)) => compileCondition(source, { limits: DRAFT_LIMITS.cel, budget });
const rules = (...specs: { id: string; when: string; effect?: string }[]): string =>
  [
    'kind: RuleSet',
    'rules:',
    ...specs.flatMap((r) => [`  - id: ${r.id}`, `    when: '${r.when}'`, `    effect: ${r.effect ?? 'deny'}`, '    reason: spec']),
    '',
  ].join('\n');
const draftBundle = (content: string, limits: DraftLimits = DRAFT_LIMITS) => loadBundleFromFiles([MANIFEST, { path: 'rules.yaml', content }], { limits });

describe('draft limits: when an untrusted condition is compiled', () => {
  it.each([
    ['maxExpressionChars', `subject.id == "${'x'.repeat(DRAFT_LIMITS.cel.maxExpressionChars)}"`],
    ['maxAstNodes', `${LIST} == ${LIST} && ${LIST} == ${LIST}`],
    ['maxListElements', `${listOf(DRAFT_LIMITS.cel.maxListElements + 1)}.size() > 0`],
    ['maxDepth', `${'('.repeat(40)}true${')'.repeat(40)}`],
    ['maxComprehensionNesting', '[1].all(a, [2].all(b, [3].all(c, a + b + c > 0)))'],
    ['regex', 'subject.id.matches("^(a+)+$")'],
    ['regex', '["a", "b"].exists(x, x.matches("b"))'],
  ])('refuses what is over %s, naming it, while a shipped bundle may hold it', (limit, source) => {
    const refused = draft(source);
    expect(refused).toMatchObject({ ok: false, limit });
    if (!refused.ok) expect(refused.error).toContain(limit === 'regex' ? 'matches() is not allowed in a draft bundle' : limit);
    expect(compileCondition(source)).toMatchObject({ ok: true });
  });

  it('counts only macros run per iteration of another: a chain of macros over one range is not nested', () => {
    expect(draft('entitlements.filter(e, e.id != "").map(e, e.id).exists(x, x == "a")')).toMatchObject({ ok: true });
    expect(draft('entitlements.exists(e, grants.exists(g, g.entitlementId == e.id))')).toMatchObject({ ok: true });
    expect(draft('entitlements.exists(e, grants.filter(g, g.system == e.system).map(g, g.entitlementId).exists(x, x == e.id))')).toMatchObject({ ok: true });
  });

  it('names the rule (or risk factor) and the limit in the bundle issue, at the line of its condition', () => {
    const issues = lintBundleFiles(
      [
        MANIFEST,
        { path: 'rules.yaml', content: rules({ id: 'uses-regex', when: 'subject.id.matches("a")' }, { id: 'fine', when: 'subject.id == "a"' }) },
        {
          path: 'risk.yaml',
          content: `kind: RiskModel\nfactors:\n  - id: deep\n    weight: 10\n    description: d\n    when: '[1].all(a, [2].all(b, [3].all(c, true)))'\n`,
        },
      ],
      { limits: DRAFT_LIMITS },
    );
    expect(issues.map((issue) => `${issue.file}:${issue.line} ${issue.message}`)).toEqual([
      expect.stringMatching(/^risk\.yaml:6 CEL: risk factor "deep": macros are nested 3 deep, over the draft limit maxComprehensionNesting \(2\)/),
      expect.stringMatching(/^rules\.yaml:4 CEL: rule "uses-regex": matches\(\) is not allowed/),
    ]);
  });

  it('refuses more distinct conditions than maxConditions', () => {
    const limits: DraftLimits = { ...DRAFT_LIMITS, maxConditions: 2 };
    const issues = lintBundleFiles(
      [MANIFEST, { path: 'rules.yaml', content: rules(...[1, 2, 3].map((n) => ({ id: `r${n}`, when: `subject.id == "${n}"` }))) }],
      { limits },
    );
    expect(issues).toEqual([
      expect.objectContaining({ message: 'CEL: rule "r3": the bundle has more than 2 distinct conditions, the draft limit maxConditions' }),
    ]);
    // the same condition repeated is compiled once, and counted once
    expect(
      lintBundleFiles([MANIFEST, { path: 'rules.yaml', content: rules(...[1, 2, 3].map((n) => ({ id: `r${n}`, when: 'subject.id == "x"' }))) }], { limits }),
    ).toEqual([]);
  });
});

describe('draft limits: while a draft runs', () => {
  it('counts every node evaluated, each iteration of a macro included', () => {
    const budget = new EvaluationBudget(DRAFT_LIMITS.evaluation);
    const steps = (n: number): number => {
      const compiled = draft(`${listOf(n)}.all(x, x >= 0)`, budget);
      if (!compiled.ok) throw new Error(compiled.error);
      budget.start();
      expect(compiled.fn(activation)).toBe(true);
      return budget.used;
    };
    const perElement = (steps(200) - steps(100)) / 100;
    // each element is a node of the literal, plus the predicate's nodes run for it
    expect(perElement).toBeGreaterThanOrEqual(3);
    expect(steps(100)).toBeGreaterThan(100 * perElement);
  });

  it('stops a condition past maxEvaluationSteps, even where cel-js would absorb the error (`||`, `exists`)', () => {
    const limits = { maxEvaluationSteps: 5_000, maxEvaluationMillis: 60_000 };
    for (const source of [HALF_BUDGET, `${HALF_BUDGET} || true`, `${LIST}.exists(a, ${LIST}.exists(b, a + b < 0))`]) {
      const budget = new EvaluationBudget(limits);
      const compiled = draft(source, budget);
      if (!compiled.ok) throw new Error(compiled.error);
      budget.start();
      expect(() => compiled.fn(activation)).toThrow(EvaluationLimitExceeded);
      expect(budget.exceeded).toMatchObject({ limit: 'maxEvaluationSteps', max: 5_000 });
      // and it stays exceeded until the next decision starts
      expect(() => compiled.fn(activation)).toThrow('maxEvaluationSteps (5000 steps per decision)');
      budget.start();
      expect(budget.exceeded).toBeUndefined();
    }
  });

  it('stops a condition past maxEvaluationMillis, read from the clock every few steps', () => {
    let now = 0;
    const budget = new EvaluationBudget({ maxEvaluationSteps: 10_000_000, maxEvaluationMillis: 50 }, () => (now += 1));
    const compiled = draft(HALF_BUDGET, budget);
    if (!compiled.ok) throw new Error(compiled.error);
    budget.start();
    expect(() => compiled.fn(activation)).toThrow('evaluation exceeds the draft bundle limit maxEvaluationMillis (50 ms per decision)');
    // the clock was read about once per 128 steps, not per node
    expect(budget.used).toBeGreaterThan(50 * 100);
    expect(budget.used).toBeLessThan(60 * 128);
  });

  // The step budget is deterministic; the clock budget depends on how loaded the machine is (a busy CI core runs
  // half the step budget in more than 250 ms), so these specs give the clock a limit no machine reaches.
  const STEPS_ONLY: DraftLimits = { ...DRAFT_LIMITS, evaluation: { ...DRAFT_LIMITS.evaluation, maxEvaluationMillis: 3_600_000 } };

  it('refuses a whole decision over the budget, naming the rule, instead of failing closed', () => {
    const bundle = draftBundle(rules(...['one', 'two', 'three'].map((id) => ({ id, when: HALF_BUDGET, effect: 'auto_approve' }))), STEPS_ONLY);
    expect(() => evaluate(bundle, humanInput())).toThrow(/^rule "(two|three)": evaluation exceeds the draft bundle limit maxEvaluationSteps/);
    try {
      simulate(bundle, humanInput());
    } catch (error) {
      expect(error).toBeInstanceOf(EvaluationLimitExceeded);
      expect((error as EvaluationLimitExceeded).where).toMatch(/^rule "/);
    }
  });

  it('gives every decision its own budget: two that each fit both succeed', () => {
    const bundle = draftBundle(
      rules({ id: 'heavy', when: `${HALF_BUDGET} && subject.id == "nobody"` }, { id: 'allow', when: 'true', effect: 'auto_approve' }),
      STEPS_ONLY,
    );
    for (let n = 0; n < 3; n++) expect(evaluate(bundle, humanInput()).effect).toBe('auto_approve');
  });

  it('decides a draft exactly as the same bundle shipped: only the metering differs', () => {
    const files = readBundleDirectory(POLICIES);
    const shipped = loadBundleFromFiles(files);
    const metered = loadBundleFromFiles(files, { limits: DRAFT_LIMITS });
    expect(shipped.budget).toBeUndefined();
    expect(metered.budget).toBeInstanceOf(EvaluationBudget);
    expect(metered.digest).toBe(shipped.digest);
    for (const input of [humanInput(), nhiInput(), humanInput({ entitlements: [entitlement({ environment: 'prod', sensitivity: 'high' })] })]) {
      expect(evaluate(metered, input)).toEqual(evaluate(shipped, input));
    }
  });
});

describe('backtest report: bounded whatever the history', () => {
  it('lists the first errors and counts them all', () => {
    const failing = draftBundle(rules({ id: 'fine', when: 'true', effect: 'auto_approve' }));
    const accumulator = new BacktestAccumulator(failing);
    const recorded = evaluate(failing, humanInput());
    // an input the engine refuses (no entitlements) is an error of that request, not of the backtest
    for (let n = 0; n < MAX_LISTED_ERRORS + 50; n++) accumulator.add({ requestId: `r-${n}`, input: { ...humanInput(), entitlements: [] }, recorded });
    const report = accumulator.build();
    expect(report.errorCount).toBe(MAX_LISTED_ERRORS + 50);
    expect(report.errors).toHaveLength(MAX_LISTED_ERRORS);
    expect(report.total).toBe(MAX_LISTED_ERRORS + 50);
  });
});
