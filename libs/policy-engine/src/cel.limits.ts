// Limits for untrusted CEL: a draft bundle sent to the policy service (simulate, backtest) is compiled and run
// in the same process as the live decision loop, so what it may cost is bounded when it is compiled (size and
// shape of each expression, number of expressions) and while it runs (steps and time per decision). The bundle
// the service decides with is reviewed and shipped: it is compiled without these limits and runs uninstrumented.

/** Per expression, checked when it is compiled. The cel-js parser enforces the first five itself. */
export interface CelCompileLimits {
  /** AST nodes of one expression (cel-js `maxAstNodes`). */
  readonly maxAstNodes: number;
  /** Nesting of the parse (cel-js `maxDepth`). */
  readonly maxDepth: number;
  /** Elements of one list literal (cel-js `maxListElements`). */
  readonly maxListElements: number;
  /** Entries of one map literal (cel-js `maxMapEntries`). */
  readonly maxMapEntries: number;
  /** Arguments of one call (cel-js `maxCallArguments`). */
  readonly maxCallArguments: number;
  /** Characters of one expression, checked before it is parsed at all. */
  readonly maxExpressionChars: number;
  /**
   * Macros (`all`, `exists`, `exists_one`, `map`, `filter`) evaluated once per iteration of another: each level
   * multiplies the work. A macro's range does not count (it is evaluated once), its body does.
   */
  readonly maxComprehensionNesting: number;
}

/** Per decision, counted while a draft bundle's conditions run. */
export interface EvaluationLimits {
  /** CEL nodes evaluated for one decision, over all its conditions. */
  readonly maxEvaluationSteps: number;
  /** Wall time spent in CEL for one decision, checked every few steps. */
  readonly maxEvaluationMillis: number;
}

export interface DraftLimits {
  readonly cel: CelCompileLimits;
  /** Distinct conditions in one bundle: compiling (type-checking) each costs about a millisecond. */
  readonly maxConditions: number;
  readonly evaluation: EvaluationLimits;
}

export type DraftLimitName = keyof CelCompileLimits | 'maxConditions' | keyof EvaluationLimits | 'regex';

/**
 * What a draft may cost. A request's decision with the shipped bundle evaluates a few hundred nodes; these leave a
 * hundredfold headroom for honest drafts and stop a hostile one within a fraction of a second.
 */
export const DRAFT_LIMITS: DraftLimits = {
  cel: {
    maxAstNodes: 1_000,
    maxDepth: 32,
    maxListElements: 256,
    maxMapEntries: 64,
    maxCallArguments: 8,
    maxExpressionChars: 4_000,
    maxComprehensionNesting: 2,
  },
  maxConditions: 1_000,
  evaluation: { maxEvaluationSteps: 1_000_000, maxEvaluationMillis: 250 },
};

/** A draft bundle's condition over an evaluation limit: names the limit and, once known, where it ran out. */
export class EvaluationLimitExceeded extends Error {
  constructor(
    readonly limit: keyof EvaluationLimits,
    readonly max: number,
    /** `rule "x"`, `risk factor "y"` or `escalate.unless`: the condition that was running. */
    readonly where?: string,
  ) {
    super(
      `${where === undefined ? '' : `${where}: `}evaluation exceeds the draft bundle limit ${limit} (${max}${limit === 'maxEvaluationMillis' ? ' ms' : ' steps'} per decision)`,
    );
    this.name = 'EvaluationLimitExceeded';
  }

  /** The same refusal, naming the condition that was running. */
  at(where: string): EvaluationLimitExceeded {
    return this.where === undefined ? new EvaluationLimitExceeded(this.limit, this.max, where) : this;
  }
}

/** How often (in steps) the wall clock is read: reading it on every node would cost more than the node. */
const CLOCK_EVERY = 128;

/**
 * The running count of one decision's CEL work for a draft bundle. Evaluation is synchronous, so one budget per
 * bundle is enough: `start()` resets it at each decision. Once exceeded it stays exceeded until the next start,
 * so a condition that swallowed the error (cel-js's `exists`, `||` and `&&` absorb errors when another branch
 * decides) cannot finish as if nothing happened.
 */
export class EvaluationBudget {
  private steps = 0;
  private startedAt: number | undefined;
  private failure: EvaluationLimitExceeded | undefined;

  constructor(
    readonly limits: EvaluationLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.steps = 0;
    this.startedAt = undefined;
    this.failure = undefined;
  }

  get exceeded(): EvaluationLimitExceeded | undefined {
    return this.failure;
  }

  get used(): number {
    return this.steps;
  }

  /** One node evaluated; throws once a limit is passed, and on every call after that. */
  tick(): void {
    if (this.failure !== undefined) throw this.failure;
    this.steps += 1;
    if (this.steps > this.limits.maxEvaluationSteps) this.fail('maxEvaluationSteps', this.limits.maxEvaluationSteps);
    if (this.steps % CLOCK_EVERY === 1) {
      const now = this.now();
      this.startedAt ??= now;
      if (now - this.startedAt > this.limits.maxEvaluationMillis) this.fail('maxEvaluationMillis', this.limits.maxEvaluationMillis);
    }
  }

  private fail(limit: keyof EvaluationLimits, max: number): never {
    this.failure = new EvaluationLimitExceeded(limit, max);
    throw this.failure;
  }
}
