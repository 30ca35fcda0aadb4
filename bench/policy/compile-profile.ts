// Where does bundle compile time go? The same 1,000-rule bundle as the benchmark, stage by stage
// (canonical form + digest, YAML, zod, CEL parse + check) and as a whole, wall and CPU time. Under a
// loaded machine wall time inflates; CPU time shows the work. Add --cpu-prof for a profile.
// Run: node -r @swc-node/register bench/policy/compile-profile.ts
import { loadavg } from 'node:os';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { bundleDigest, bundleDocumentSchema, canonicalFiles, compileCondition, loadBundleFromFiles } from '@grantline/policy-engine';
import { thousandRuleBundle } from './thousand-rules';

const files = thousandRuleBundle();
const rules = files[1]!.content;
const whens = [...rules.matchAll(/^ {4}when: (.*)$/gm)].map((m) => m[1]!);

const time = (label: string, fn: () => unknown, runs = 5): void => {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    fn();
    wall.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `${label.padEnd(28)} first ${wall[0]!.toFixed(1).padStart(7)} ms   median ${med(wall).toFixed(1).padStart(7)} ms   cpu median ${med(cpu).toFixed(1).padStart(7)} ms`,
  );
};

console.log(`1,000-rule bundle (${rules.length.toLocaleString('en-US')} bytes) · load average ${loadavg()[0]!.toFixed(2)}`);
time('whole loadBundleFromFiles', () => loadBundleFromFiles(files));
time('canonical form + digest', () => bundleDigest(canonicalFiles(files)));
let docs: unknown[] = [];
time('yaml (js-yaml, core schema)', () => (docs = loadAll(rules, null, { schema: CORE_SCHEMA })));
time('zod schema', () => bundleDocumentSchema.parse(docs[0]));
time('CEL parse + type check', () => whens.forEach((w) => compileCondition(w)));
