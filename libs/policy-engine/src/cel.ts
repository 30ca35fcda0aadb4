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

export const compileCondition = (source: string): CompileResult => {
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
  return { ok: true, fn: compiled };
};

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'invalid expression';
