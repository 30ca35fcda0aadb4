// The one place that knows which CEL implementation runs (see docs/adr/0004-cel-implementation.md).
import { Environment } from '@marcbachmann/cel-js';

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

export type CompileResult = { readonly ok: true; readonly fn: CompiledCondition } | { readonly ok: false; readonly error: string };

/** `shortcuts: false` compiles without the shortcuts below (specs compare the two). */
export const compileCondition = (source: string, { shortcuts = true }: { shortcuts?: boolean } = {}): CompileResult => {
  // One parse serves both the type check and evaluation: checking the parsed expression annotates its
  // AST with types, so evaluation also skips the per-call type check it would otherwise run once.
  let fn: ReturnType<typeof environment.parse>;
  try {
    fn = environment.parse(source);
  } catch (e) {
    return { ok: false, error: firstLine(e) };
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
  return { ok: true, fn: (shortcuts ? shortcutFor(source, compiled) : null) ?? compiled };
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
