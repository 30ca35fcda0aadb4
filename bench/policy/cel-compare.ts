// Measures the two installed CEL implementations on the expressions Grantline policies need:
// conformance (does it evaluate, and to the expected value, on plain JSON-shaped input?) and
// speed of compiled evaluation. Run: node -r @swc-node/register bench/policy/cel-compare.ts
// The numbers feed docs/adr/0004-cel-implementation.md.
import { celEnv, isCelError, parse as bufParse, plan as bufPlan } from '@bufbuild/cel';
import { Environment } from '@marcbachmann/cel-js';

interface Case {
  readonly name: string;
  readonly expr: string;
  readonly expected: unknown;
}

const context = {
  request: { emergency: false, durationSeconds: 3600, justification: 'deploy fix', ticket: null, channel: 'portal' },
  subject: {
    kind: 'service_account',
    ownerOfRecord: 'alice',
    team: 'payments',
    attributes: { scope: ['payments-db'], onCall: true },
    createdAt: '2024-01-01T00:00:00Z',
  },
  entitlement: { system: 'payments-db', sensitivity: 'high', environment: 'prod', privilege: 'admin', owner: 'bob' },
  grants: [
    { system: 'payments-db', privilege: 'read', status: 'active' },
    { system: 'ledger', privilege: 'write', status: 'pending' },
  ],
  now: '2025-06-01T12:00:00Z',
};

const cases: readonly Case[] = [
  { name: 'field access + ==', expr: 'entitlement.environment == "prod"', expected: true },
  { name: 'in list literal', expr: 'entitlement.privilege in ["write", "admin"]', expected: true },
  { name: 'in list field', expr: 'entitlement.system in subject.attributes.scope', expected: true },
  { name: 'exists macro', expr: 'grants.exists(g, g.system == "ledger" && g.status == "pending")', expected: true },
  { name: 'all macro', expr: 'grants.all(g, g.status in ["active", "pending"])', expected: true },
  { name: 'size()', expr: 'size(grants) == 2', expected: true },
  { name: 'string startsWith/contains', expr: 'subject.team.startsWith("pay") && request.justification.contains("fix")', expected: true },
  { name: 'string matches', expr: 'request.justification.matches("^[a-z ]+$")', expected: true },
  { name: 'has() present', expr: 'has(subject.ownerOfRecord)', expected: true },
  { name: 'has() absent', expr: 'has(subject.manager)', expected: false },
  { name: 'ternary', expr: 'entitlement.sensitivity == "high" ? "owner" : "manager"', expected: 'owner' },
  { name: 'null comparison', expr: 'request.ticket == null', expected: true },
  { name: 'double vs int literal', expr: 'request.durationSeconds > 86400', expected: false },
  { name: 'timestamp compare', expr: 'timestamp(now) > timestamp(subject.createdAt)', expected: true },
  { name: 'timestamp - timestamp > duration', expr: 'timestamp(now) - timestamp(subject.createdAt) > duration("720h")', expected: true },
  { name: 'timestamp + duration', expr: 'timestamp(subject.createdAt) + duration("24h") < timestamp(now)', expected: true },
  { name: 'getHours (UTC)', expr: 'timestamp(now).getHours() == 12', expected: true },
  { name: 'bool field / negation', expr: '!request.emergency && subject.attributes.onCall', expected: true },
  { name: 'map key in', expr: '"scope" in subject.attributes', expected: true },
  { name: 'filter + size', expr: 'size(grants.filter(g, g.status == "active")) == 1', expected: true },
];

const normalise = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);

type Compiled = (ctx: typeof context) => unknown;
interface Impl {
  readonly name: string;
  readonly compile: (expr: string) => Compiled;
}

const marc = new Environment({ unlistedVariablesAreDyn: true });
// bufbuild wants Maps for CEL maps; a plain object is turned into Map recursively here, which is what
// an adapter in the engine would have to do per evaluation (conversion cost included in the timing).
const toCelInput = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(toCelInput);
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toCelInput(x)]));
  return v;
};
const bufEnv = celEnv();

const impls: readonly Impl[] = [
  {
    name: '@marcbachmann/cel-js',
    compile: (expr) => {
      const fn = marc.parse(expr);
      return (ctx) => fn(ctx);
    },
  },
  {
    name: '@bufbuild/cel (plain objects)',
    compile: (expr) => {
      const fn = bufPlan(bufEnv, bufParse(expr));
      return (ctx) => {
        const r = fn(ctx as never);
        if (isCelError(r)) throw new Error(String(r.message));
        return r;
      };
    },
  },
  {
    name: '@bufbuild/cel (Map input)',
    compile: (expr) => {
      const fn = bufPlan(bufEnv, bufParse(expr));
      return (ctx) => {
        const bindings = Object.fromEntries(Object.entries(ctx).map(([k, v]) => [k, toCelInput(v)]));
        const r = fn(bindings as never);
        if (isCelError(r)) throw new Error(String(r.message));
        return r;
      };
    },
  },
];

const opsPerSecond = (fn: () => unknown): number => {
  for (let i = 0; i < 2000; i++) fn();
  const n = 50_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return Math.round(n / (ns / 1e9));
};

const summary: Record<string, { pass: number; total: number; medianOps: number; compileUs: number }> = {};
for (const impl of impls) {
  console.log(`\n== ${impl.name}`);
  let pass = 0;
  const speeds: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const c of cases) {
    try {
      impl.compile(c.expr);
    } catch {
      /* counted below */
    }
  }
  const compileUs = Number(process.hrtime.bigint() - t0) / 1000 / cases.length;
  for (const c of cases) {
    let verdict: string;
    try {
      const fn = impl.compile(c.expr);
      const got = normalise(fn(context));
      if (got === c.expected) {
        pass++;
        const ops = opsPerSecond(() => fn(context));
        speeds.push(ops);
        verdict = `ok    ${ops.toLocaleString('en-US').padStart(12)} ops/s`;
      } else verdict = `WRONG got ${String(got)}`;
    } catch (e) {
      verdict = `FAIL  ${(e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 70)}`;
    }
    console.log(`${c.name.padEnd(36)} ${verdict}`);
  }
  speeds.sort((a, b) => a - b);
  const medianOps = speeds[Math.floor(speeds.length / 2)] ?? 0;
  summary[impl.name] = { pass, total: cases.length, medianOps, compileUs: Math.round(compileUs) };
}
console.log('');
console.log(JSON.stringify(summary));
