// Policy benchmark (not a test): the same representative policy as a Grantline bundle (YAML + CEL), as
// Rego on @open-policy-agent/opa-wasm and as Cedar on @cedar-policy/cedar-wasm, evaluated in this process
// on the same inputs. Prints p50/p99 per decision, throughput and ratios, the compile time of a
// 1,000-rule bundle, and ends with ONE line of JSON.
// Run: node -r @swc-node/register bench/policy.bench.ts   (npm run bench:policy)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import {
  evaluate,
  evaluateValidated,
  loadBundleFromFiles,
  parsePolicyInput,
  readBundleDirectory,
} from '../libs/policy-engine/src/index';
import type { PolicyInput } from '../libs/policy-engine/src/index';
import { cedarPolicies } from './policy/cedar/policies';
import { benchInputs } from './policy/inputs';

const ROOT = join(__dirname, '..');
const OPA_VERSION = 'v1.22.2';
const OPA_BIN = join(ROOT, '.cache/opa', OPA_VERSION, 'opa');
const SECONDS_PER_ENGINE = Number(process.env.BENCH_SECONDS ?? 3);

interface Outcome {
  effect: string;
  stages: string[];
}
interface Stats {
  p50Us: number;
  p99Us: number;
  meanUs: number;
  opsPerSec: number;
  samples: number;
}

const measure = (label: string, fns: (() => unknown)[]): Stats => {
  // warm-up: let the JIT (and wasm tiering) settle
  const warmEnd = performance.now() + 500;
  for (let i = 0; performance.now() < warmEnd; i++) fns[i % fns.length]!();
  const samples: number[] = [];
  const end = performance.now() + SECONDS_PER_ENGINE * 1000;
  const t0 = process.hrtime.bigint();
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 256; k++, i++) {
      const s = process.hrtime.bigint();
      fns[i % fns.length]!();
      samples.push(Number(process.hrtime.bigint() - s));
    }
  }
  const totalNs = Number(process.hrtime.bigint() - t0);
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! / 1000;
  const stats = {
    p50Us: round(q(0.5)),
    p99Us: round(q(0.99)),
    meanUs: round(samples.reduce((a, b) => a + b, 0) / samples.length / 1000),
    // throughput from wall time over the timed loop (includes the timer overhead: conservative)
    opsPerSec: Math.round(samples.length / (totalNs / 1e9)),
    samples: samples.length,
  };
  console.log(
    `${label.padEnd(30)} p50 ${fmt(stats.p50Us)} µs   p99 ${fmt(stats.p99Us)} µs   ${stats.opsPerSec.toLocaleString('en-US').padStart(10)} decisions/s   (${stats.samples.toLocaleString('en-US')} samples)`,
  );
  return stats;
};
const round = (x: number) => Math.round(x * 100) / 100;
const fmt = (x: number) => x.toFixed(2).padStart(8);

const compileRego = (): Buffer => {
  const src = readFileSync(join(__dirname, 'policy/rego/grantline.rego'));
  const key = createHash('sha256').update(OPA_VERSION).update(src).digest('hex').slice(0, 16);
  const outDir = join(ROOT, '.cache/opa/wasm', key);
  const wasm = join(outDir, 'policy.wasm');
  if (!existsSync(wasm)) {
    if (!existsSync(OPA_BIN)) {
      throw new Error(
        `opa ${OPA_VERSION} not built: cd tools/opa && go build -o ../../.cache/opa/${OPA_VERSION}/opa github.com/open-policy-agent/opa`,
      );
    }
    mkdirSync(outDir, { recursive: true });
    const bundle = join(outDir, 'bundle.tar.gz');
    execFileSync(OPA_BIN, ['build', '-t', 'wasm', '-e', 'grantline/decision', '-o', bundle, join(__dirname, 'policy/rego/grantline.rego')]);
    execFileSync('tar', ['-xzf', bundle, '-C', outDir, '/policy.wasm']);
  }
  return readFileSync(wasm);
};

const thousandRuleBundle = () => {
  const rules: string[] = [];
  const envs = ['prod', 'nonprod'];
  const privs = ['read', 'write', 'admin'];
  for (let i = 0; i < 1000; i++) {
    rules.push(
      `  - id: generated-${i}\n    match: { environments: [${envs[i % 2]}], privileges: [${privs[i % 3]}] }\n` +
        `    when: entitlement.system == "sys-${i}" && size(request.justification) > ${i % 7} && subject.kind in ["human", "service_account"]\n` +
        `    effect: ${i % 5 === 0 ? 'deny' : 'require_approval'}\n    reason: "generated rule ${i} for {{entitlement.system}}"\n` +
        (i % 5 === 0 ? '' : `    stages: [{ name: stage-${i % 4}, approvers: [manager] }]\n`),
    );
  }
  return [
    { path: 'bundle.yaml', content: 'kind: Bundle\nname: thousand\nversion: "1"\n' },
    { path: 'rules.yaml', content: `kind: RuleSet\nrules:\n${rules.join('')}` },
  ];
};

const main = async (): Promise<void> => {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  console.log(`policy benchmark · node ${process.version} · ${SECONDS_PER_ENGINE}s per engine · load average ${load}\n`);
  const drafts = benchInputs(512);
  const inputs: PolicyInput[] = drafts.map(parsePolicyInput);

  // --- Grantline
  const bundle = loadBundleFromFiles(readBundleDirectory(join(__dirname, 'policy/grantline')));
  const glOutcome = (i: PolicyInput): Outcome => {
    const d = evaluateValidated(bundle, i);
    return { effect: d.effect, stages: d.route.map((s) => s.name).sort() };
  };

  // --- OPA (Rego compiled to Wasm)
  const opa = await loadPolicy(compileRego());
  opa.setData({});
  const regoInputs = inputs.map((i) => ({ request: i.request, subject: i.subject, entitlement: i.entitlements[0] }));
  const regoOutcome = (x: (typeof regoInputs)[number]): Outcome => {
    const [r] = opa.evaluate(x) as { result: { effect: string; stages: string[] } }[];
    // Rego derives stages independently of the effect; a denied request has no route
    const effect = r!.result.effect;
    return { effect, stages: effect === 'deny' ? [] : [...r!.result.stages].sort() };
  };

  // --- Cedar
  const pset = cedar.preparsePolicySet('bench', { staticPolicies: cedarPolicies });
  if (pset.type !== 'success') throw new Error(`cedar: ${JSON.stringify(pset)}`);
  const cedarCalls = inputs.map((i) => {
    const e = i.entitlements[0]!;
    const attrs: Record<string, cedar.CedarValueJson> = { kind: i.subject.kind, scope: (i.subject.attributes.scope as string[]) ?? [] };
    if (i.subject.ownerOfRecord !== null) attrs.ownerOfRecord = i.subject.ownerOfRecord;
    return {
      principal: { type: 'Subject', id: i.subject.id },
      action: { type: 'Action', id: 'request' },
      resource: { type: 'Entitlement', id: e.id },
      context: { hasDuration: i.request.duration !== null },
      preparsedPolicySetId: 'bench',
      entities: [
        { uid: { type: 'Subject', id: i.subject.id }, attrs, parents: [] },
        {
          uid: { type: 'Entitlement', id: e.id },
          attrs: { system: e.system, sensitivity: e.sensitivity, environment: e.environment, privilege: e.privilege },
          parents: [],
        },
      ],
    } satisfies cedar.StatefulAuthorizationCall;
  });
  const cedarOutcome = (c: cedar.StatefulAuthorizationCall): Outcome => {
    const a = cedar.statefulIsAuthorized(c);
    if (a.type !== 'success') throw new Error(JSON.stringify(a.errors));
    if (a.response.decision === 'deny') return { effect: 'deny', stages: [] };
    const stages = a.response.diagnostics.reason.filter((p) => p.startsWith('stage:')).map((p) => p.slice(6)).sort();
    return { effect: stages.length ? 'require_approval' : 'auto_approve', stages };
  };

  // --- Same answers? A benchmark of engines that disagree would be meaningless.
  let agree = 0;
  const effects: Record<string, number> = {};
  for (let k = 0; k < inputs.length; k++) {
    const g = JSON.stringify(glOutcome(inputs[k]!));
    const r = JSON.stringify(regoOutcome(regoInputs[k]!));
    const c = JSON.stringify(cedarOutcome(cedarCalls[k]!));
    if (g === r && g === c) agree++;
    else console.log(`disagreement on input ${k}: grantline ${g} rego ${r} cedar ${c}`);
    const eff = glOutcome(inputs[k]!).effect;
    effects[eff] = (effects[eff] ?? 0) + 1;
  }
  console.log(`agreement: ${agree}/${inputs.length} inputs give the same effect and stages in all three engines`);
  console.log(`effects:   ${Object.entries(effects).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);

  const gl = measure('grantline (validated input)', inputs.map((i) => () => evaluateValidated(bundle, i)));
  const glZod = measure('grantline (+ zod validation)', drafts.map((d) => () => evaluate(bundle, d)));
  const rego = measure('opa-wasm (Rego)', regoInputs.map((x) => () => opa.evaluate(x)));
  const ced = measure('cedar-wasm (Cedar)', cedarCalls.map((c) => () => cedar.statefulIsAuthorized(c)));

  // --- 1,000-rule bundle compile
  const files = thousandRuleBundle();
  const compileMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const b = loadBundleFromFiles(files);
    compileMs.push(performance.now() - t);
    if (b.rules.length !== 1000) throw new Error('expected 1000 rules');
  }
  const firstCompile = round(compileMs[0]!);
  const medianCompile = round([...compileMs].sort((a, b) => a - b)[2]!);
  console.log(`\n1,000-rule bundle compile: first ${firstCompile} ms, median of 5 ${medianCompile} ms (goal ≤ 200 ms)`);

  const ratio = (a: Stats, b: Stats) => ({ p50: round(b.p50Us / a.p50Us), p99: round(b.p99Us / a.p99Us), throughput: round(a.opsPerSec / b.opsPerSec) });
  const vsOpa = ratio(gl, rego);
  const vsCedar = ratio(gl, ced);
  console.log(`\nratios (how many times faster grantline is):`);
  console.log(`  vs opa-wasm:   p50 ${vsOpa.p50}×  p99 ${vsOpa.p99}×  throughput ${vsOpa.throughput}×   (goal ≥ 10×)`);
  console.log(`  vs cedar-wasm: p50 ${vsCedar.p50}×  p99 ${vsCedar.p99}×  throughput ${vsCedar.throughput}×   (goal ≥ 5×)`);
  const goals = {
    p99Le20us: gl.p99Us <= 20,
    tenTimesOpa: vsOpa.p99 >= 10 && vsOpa.throughput >= 10,
    fiveTimesCedar: vsCedar.p99 >= 5 && vsCedar.throughput >= 5,
    compile1000Le200ms: firstCompile <= 200,
  };
  console.log(`\ngoals: ${Object.entries(goals).map(([k, v]) => `${k} ${v ? 'MET' : 'MISSED'}`).join(' · ')}`);
  const summary = {
    bench: 'policy',
    node: process.version,
    loadAverage: Number(load),
    inputs: inputs.length,
    agreement: agree,
    grantline: gl,
    grantlineWithValidation: glZod,
    opaWasm: rego,
    cedarWasm: ced,
    ratios: { vsOpa, vsCedar },
    compile1000Rules: { firstMs: firstCompile, medianMs: medianCompile },
    goals,
  };
  writeFileSync(join(ROOT, '.cache/policy-bench-last.json'), JSON.stringify(summary));
  console.log(JSON.stringify(summary));
};

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
