// The one place that knows which CEL implementation runs (see docs/adr/0004-cel-implementation.md).
import { Environment } from '@marcbachmann/cel-js';
import type { CelCompileLimits, DraftLimitName, EvaluationBudget } from './cel.limits';

/** Variables every condition can read; documented in the README. */
export const CEL_VARIABLES = ['request', 'subject', 'requester', 'entitlement', 'entitlements', 'grants', 'now'] as const;

export type Activation = Readonly<Record<(typeof CEL_VARIABLES)[number], unknown>>;
export type CompiledCondition = (activation: Activation) => unknown;

const environment = (() => {
  const env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false });
  // `now` is a real timestamp so conditions can do `now - timestamp(x) > duration("720h")` directly.
  for (const name of CEL_VARIABLES) env.registerVariable(name, name === 'now' ? 'google.protobuf.Timestamp' : 'dyn');
  return env;
})();

export type CompileResult =
  | { readonly ok: true; readonly fn: CompiledCondition }
  /** `limit`: the draft limit the expression is over, when that is why it was refused. */
  | { readonly ok: false; readonly error: string; readonly limit?: DraftLimitName };

export interface CompileOptions {
  /** `false` compiles without the shortcuts below (specs compare the two). */
  readonly shortcuts?: boolean;
  /** Untrusted source (a draft bundle): refuse what is over these limits, and `matches` (see draftShape). */
  readonly limits?: CelCompileLimits;
  /** Untrusted source: count every node evaluated against this budget (shared by the bundle's conditions). */
  readonly budget?: EvaluationBudget;
}

/** One environment per set of parse limits: cel-js enforces them while parsing, before any type check. */
const limitedEnvironments = new Map<string, Environment>();
const environmentFor = (limits: CelCompileLimits | undefined): Environment => {
  if (limits === undefined) return environment;
  const parseLimits = {
    maxAstNodes: limits.maxAstNodes,
    maxDepth: limits.maxDepth,
    maxListElements: limits.maxListElements,
    maxMapEntries: limits.maxMapEntries,
    maxCallArguments: limits.maxCallArguments,
  };
  const key = JSON.stringify(parseLimits);
  let limited = limitedEnvironments.get(key);
  if (limited === undefined) {
    limited = environment.clone({ limits: parseLimits });
    limitedEnvironments.set(key, limited);
  }
  return limited;
};

const PARSE_LIMIT = /^Exceeded (max[A-Za-z]+) \((\d+)\)/;

export const compileCondition = (source: string, { shortcuts = true, limits, budget }: CompileOptions = {}): CompileResult => {
  if (limits !== undefined && source.length > limits.maxExpressionChars) {
    return {
      ok: false,
      error: `the expression has ${source.length} characters, over the draft limit maxExpressionChars (${limits.maxExpressionChars})`,
      limit: 'maxExpressionChars',
    };
  }
  // One parse serves both the type check and evaluation: checking the parsed expression annotates its
  // AST with types, so evaluation also skips the per-call type check it would otherwise run once.
  let fn: ReturnType<typeof environment.parse>;
  try {
    fn = environmentFor(limits).parse(source);
  } catch (e) {
    const error = firstLine(e);
    const overLimit = PARSE_LIMIT.exec(error);
    if (overLimit)
      return { ok: false, error: `the expression exceeds the draft limit ${overLimit[1]} (${overLimit[2]})`, limit: overLimit[1] as DraftLimitName };
    return { ok: false, error };
  }
  let check: { valid: boolean; type?: string; error?: Error };
  try {
    check = fn.check();
  } catch (e) {
    return { ok: false, error: firstLine(e) };
  }
  if (!check.valid) return { ok: false, error: firstLine(check.error) };
  if (check.type !== 'bool' && check.type !== 'dyn') {
    return { ok: false, error: `a condition must be a bool, this one is ${check.type ?? 'unknown'}` };
  }
  const compiled: CompiledCondition = fn;
  if (limits !== undefined) {
    const refused = draftShape(fn.ast, limits);
    if (refused !== null) return { ok: false, ...refused };
  }
  // A draft's conditions run without shortcuts: every node is counted, and its speed does not matter.
  if (budget !== undefined) return { ok: true, fn: metered(fn.ast, compiled, budget) };
  return { ok: true, fn: (shortcuts ? shortcutFor(source, compiled) : null) ?? compiled };
};

// ---------------------------------------------------------------------------------------------------
// Untrusted conditions. cel-js has parse-time limits (above) but no evaluation cost limit, so the engine
// walks the checked AST itself: it refuses shapes whose cost cannot be bounded (`matches`: a backtracking
// regular expression is one native call, uncountable and possibly exponential; too deep a nest of macros),
// and wraps every node's `evaluate` so each evaluated node ticks the budget. This reads cel-js internals
// (ASTNode's `op`, `args`, `meta.alternate`/`meta.macro`, and `evaluate(ev, ast, ctx)`), which is why it lives
// here; cel.spec.ts proves the metering still sees every iteration after an upgrade of the library.

type Evaluate = (this: CelNode, evaluator: unknown, ast: CelNode, context: unknown) => unknown;

interface CelNode {
  readonly op: string;
  readonly args: unknown;
  readonly meta: { readonly alternate?: CelNode; readonly macro?: CelNode; readonly evaluate?: Evaluate };
  evaluate: Evaluate;
}

const isCelNode = (value: unknown): value is CelNode =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { op?: unknown }).op === 'string' &&
  typeof (value as { evaluate?: unknown }).evaluate === 'function' &&
  typeof (value as { meta?: unknown }).meta === 'object';

/** The nodes directly under `node`, with the key they sit under (a comprehension's `iterable`, `step`, ...). */
const childrenOf = (node: CelNode): { key: string; child: CelNode }[] => {
  const out: { key: string; child: CelNode }[] = [];
  const visit = (value: unknown, key: string): void => {
    if (isCelNode(value)) out.push({ key, child: value });
    else if (Array.isArray(value)) for (const item of value) visit(item, key);
    // A comprehension's args are a plain object of nodes (plus its iteration context, which is not a node).
    else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [name, item] of Object.entries(value as Record<string, unknown>)) if (isCelNode(item) || Array.isArray(item)) visit(item, name);
    }
  };
  if (node.meta.alternate) visit(node.meta.alternate, 'alternate');
  if (node.meta.macro) visit(node.meta.macro, 'macro');
  visit(node.args, 'args');
  return out;
};

const everyNode = (root: CelNode): CelNode[] => {
  const seen = new Set<CelNode>();
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const { child } of childrenOf(node)) stack.push(child);
  }
  return [...seen];
};

/**
 * The deepest nest of comprehensions evaluated per iteration of another (a range is evaluated once: not counted).
 * Memoised: a macro's body is reachable both from the call as written and from its expansion.
 */
const comprehensionNesting = (node: CelNode, memo = new Map<CelNode, number>()): number => {
  const known = memo.get(node);
  if (known !== undefined) return known;
  let deepest = 0;
  for (const { key, child } of childrenOf(node)) {
    const inner = comprehensionNesting(child, memo);
    deepest = Math.max(deepest, node.op === 'comprehension' && key === 'iterable' ? inner - 1 : inner);
  }
  const nesting = node.op === 'comprehension' ? deepest + 1 : deepest;
  memo.set(node, nesting);
  return nesting;
};

const callName = (node: CelNode): string | undefined =>
  (node.op === 'call' || node.op === 'rcall') && Array.isArray(node.args) && typeof node.args[0] === 'string' ? node.args[0] : undefined;

const draftShape = (ast: unknown, limits: CelCompileLimits): { error: string; limit: DraftLimitName } | null => {
  if (!isCelNode(ast)) return { error: 'the expression could not be inspected for the draft limits', limit: 'maxAstNodes' };
  if (everyNode(ast).some((node) => callName(node) === 'matches')) {
    return {
      error:
        'matches() is not allowed in a draft bundle: the run time of a regular expression cannot be bounded here (use startsWith, endsWith or contains, or ship the rule through review)',
      limit: 'regex',
    };
  }
  const nesting = comprehensionNesting(ast);
  if (nesting > limits.maxComprehensionNesting) {
    return {
      error: `macros are nested ${nesting} deep, over the draft limit maxComprehensionNesting (${limits.maxComprehensionNesting})`,
      limit: 'maxComprehensionNesting',
    };
  }
  return null;
};

/**
 * The condition with every node of its AST counting against the budget. A node's own `evaluate` resolves, on
 * first use, to its macro expansion (`meta.alternate` / `meta.macro`) or its operator's implementation; the
 * wrapper resolves the same way up front, so the wrapper stays in place.
 */
const metered = (ast: unknown, compiled: CompiledCondition, budget: EvaluationBudget): CompiledCondition => {
  if (isCelNode(ast)) {
    for (const node of everyNode(ast)) {
      const { alternate, macro, evaluate } = node.meta;
      const target = alternate ?? macro;
      const inner: Evaluate | undefined = target !== undefined ? (evaluator, _ast, context) => target.evaluate(evaluator, target, context) : evaluate;
      if (inner === undefined) continue;
      node.evaluate = function meteredEvaluate(this: CelNode, evaluator, self, context) {
        budget.tick();
        return inner.call(this, evaluator, self, context);
      };
    }
  }
  return (activation) => {
    let result: unknown;
    try {
      result = compiled(activation);
    } catch (error) {
      throw budget.exceeded ?? error;
    }
    // An error absorbed inside (cel-js's `exists`, `||`, `&&` may decide without a failed branch) still ends it.
    if (budget.exceeded !== undefined) throw budget.exceeded;
    return result;
  };
};

// ---------------------------------------------------------------------------------------------------
// Shortcuts for the commonest condition shapes: `a.b.c == null`, `a.b != null`, `x.y in a.b.c` and
// `!(x.y in a.b.c)`. cel-js spends most of such an evaluation dispatching on runtime types; a
// shortcut answers directly, but only on plain JSON-shaped data where the answer is certain (own keys
// on plain objects, a string looked up in a list of strings). Anything else (a missing key, a Map, a
// mixed list) goes to cel-js itself, so results and error messages stay exactly cel-js's. Only
// expressions cel-js has already parsed and type-checked get here.

const PATH = String.raw`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`;
const NULL_TEST = new RegExp(String.raw`^\s*(${PATH})\s*(==|!=)\s*null\s*$`);
const MEMBERSHIP = new RegExp(String.raw`^\s*(!)?\s*\(\s*(${PATH})\s+in\s+(${PATH})\s*\)\s*$|^\s*(${PATH})\s+in\s+(${PATH})\s*$`);

/** The variables a shortcut may read: `now` is a typed timestamp and stays with cel-js. */
const PLAIN_ROOTS: ReadonlySet<string> = new Set(CEL_VARIABLES.filter((v) => v !== 'now'));

const NOT_PLAIN = Symbol('not plain');

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Reads a dotted path the way cel-js would on plain objects, or NOT_PLAIN when cel-js must decide. */
const reader = (path: string): ((a: Activation) => unknown) | null => {
  const [root, ...fields] = path.split('.');
  if (root === undefined || !PLAIN_ROOTS.has(root)) return null;
  return (a) => {
    let v: unknown = (a as Record<string, unknown>)[root];
    for (const f of fields) {
      if (!isPlainObject(v) || !Object.hasOwn(v, f)) return NOT_PLAIN;
      v = v[f];
    }
    return v === undefined ? NOT_PLAIN : v;
  };
};

const shortcutFor = (source: string, full: CompiledCondition): CompiledCondition | null => {
  const nullTest = NULL_TEST.exec(source);
  if (nullTest) {
    const read = reader(nullTest[1]!);
    if (!read) return null;
    const equal = nullTest[2] === '==';
    return (a) => {
      const v = read(a);
      if (v === NOT_PLAIN) return full(a);
      return equal ? v === null : v !== null;
    };
  }
  const membership = MEMBERSHIP.exec(source);
  if (membership) {
    const negate = membership[1] === '!';
    const needle = reader(membership[2] ?? membership[4]!);
    const haystack = reader(membership[3] ?? membership[5]!);
    if (!needle || !haystack) return null;
    return (a) => {
      const x = needle(a);
      const xs = haystack(a);
      if (typeof x !== 'string' || !Array.isArray(xs)) return full(a);
      let found = false;
      for (const item of xs as unknown[]) {
        if (typeof item !== 'string') return full(a);
        if (item === x) found = true;
      }
      return negate ? !found : found;
    };
  }
  return null;
};

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'invalid expression';
