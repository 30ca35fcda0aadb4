// The condition shortcuts must answer exactly as cel-js does, errors included, for any value.
import { compileCondition } from './cel';
import type { Activation, CompiledCondition } from './cel';

const compile = (source: string, shortcuts: boolean): CompiledCondition => {
  const r = compileCondition(source, { shortcuts });
  if (!r.ok) throw new Error(r.error);
  return r.fn;
};

const outcome = (fn: CompiledCondition, a: Activation): string => {
  try {
    return `value ${JSON.stringify(fn(a))}`;
  } catch (e) {
    return `error ${e instanceof Error ? e.message : String(e)}`;
  }
};

const activation = (over: Partial<Record<keyof Activation, unknown>>): Activation => ({
  request: {},
  subject: {},
  requester: {},
  entitlement: null,
  entitlements: [],
  grants: [],
  now: new Date('2025-06-02T10:00:00Z'),
  ...over,
});

const VALUES: unknown[] = [
  null,
  'alice',
  '',
  0,
  1.5,
  true,
  false,
  [],
  ['a'],
  ['a', 'b'],
  [1, 'a'],
  [null],
  {},
  { a: 1 },
  new Map([['a', 1]]),
  new Date(0),
  undefined,
];

describe('condition shortcuts', () => {
  it.each(['subject.ownerOfRecord == null', 'subject.ownerOfRecord != null', 'subject.attributes.scope == null'])(
    'Given %s, When evaluated on any value, missing key or non-object parent, Then the shortcut answers as cel-js',
    (source) => {
      const fast = compile(source, true);
      const full = compile(source, false);
      expect('ast' in fast).toBe(false);
      for (const v of VALUES) {
        for (const subject of [{ ownerOfRecord: v, attributes: { scope: v } }, { attributes: v }, v, Object.create({ ownerOfRecord: null }) as unknown]) {
          const a = activation({ subject });
          expect(outcome(fast, a)).toBe(outcome(full, a));
        }
      }
      expect(outcome(fast, activation({ subject: {} }))).toMatch(/^error /);
    },
  );

  it.each(['!(entitlement.system in subject.attributes.scope)', 'entitlement.system in subject.attributes.scope', '( entitlement.system in subject.scope )'])(
    'Given %s, When evaluated on any needle and list, Then the shortcut answers as cel-js',
    (source) => {
      const fast = compile(source, true);
      const full = compile(source, false);
      expect('ast' in fast).toBe(false);
      for (const system of VALUES) {
        for (const scope of VALUES) {
          const a = activation({ entitlement: { system }, subject: { scope, attributes: { scope } } });
          expect(outcome(fast, a)).toBe(outcome(full, a));
        }
      }
      expect(outcome(fast, activation({ entitlement: { system: 'a' }, subject: { scope: ['a'], attributes: { scope: ['a'] } } }))).toBe(
        source.startsWith('!') ? 'value false' : 'value true',
      );
    },
  );

  it('Given conditions of other shapes, When compiled, Then they are cel-js functions and the common shapes are not', () => {
    const isCelJs = (source: string): boolean => {
      const r = compileCondition(source);
      if (!r.ok) throw new Error(r.error);
      return 'ast' in r.fn; // cel-js's compiled expression carries its AST; a shortcut does not
    };
    for (const source of ['subject.a == null || subject.b == null', 'size(request.justification) < 10', 'subject.a == "x"', 'has(subject.a)']) {
      expect(isCelJs(source)).toBe(true);
    }
    expect(isCelJs('subject.a == null')).toBe(false);
    expect(isCelJs('!(entitlement.system in subject.scope)')).toBe(false);
  });
});
