// Policy benchmark (not a test): the same representative policy as a Grantline bundle (YAML + CEL), as
// Rego on @open-policy-agent/opa-wasm and as Cedar on @cedar-policy/cedar-wasm, evaluated in this process
// on the same inputs. Prints p50/p99 per decision, throughput and ratios, the compile time of a
// 1,000-rule bundle, and ends with ONE line of JSON.
//
// Method: every engine is warmed up, then runs a pinned number of decisions per round; rounds
// interleave the engines (rotating who goes first) so that load from other work on the machine hits
// them alike. Each round times every decision on its own (process.hrtime.bigint, for p50/p99) and then
// a batch with one clock read at each end (for the mean and throughput, free of timer overhead), also
// taking the process CPU time of the batch. The load average is printed before and after.
// Run: node -r @swc-node/register bench/policy.bench.ts   (npm run bench:policy)
//   BENCH_ROUNDS (default 30) scales the run; block sizes per engine are fixed below.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { evaluate, evaluateValidated, loadBundleFromFiles, parsePolicyInput, readBundleDirectory } from '@grantline/policy-engine';
import type { PolicyInput } from '@grantline/policy-engine';
import { cedarPolicies } from './policy/cedar/policies';
import { benchInputs } from './policy/inputs';
import { thousandRuleBundle } from './policy/thousand-rules';

const ROOT = join(__dirname, '..');
const OPA_VERSION = 'v1.22.2';
const OPA_BIN = join(ROOT, '.cache/opa', OPA_VERSION, 'opa');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);

interface Outcome {
  effect: string;
  stages: string[];
}
interface Stats {
  /** per-decision timing (each decision between two clock reads) */
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** from the untimed batches: wall time / decisions, and the process CPU time / decisions */
  batchMeanUs: number;
  cpuUs: number;
  /** decisions per second of wall time over the batches */
  opsPerSec: number;
  samples: number;
}

interface Engine {
  readonly label: string;
  /** decisions per round, timed one by one and again as a batch */
  readonly block: number;
  readonly warmup: number;
  readonly decide: (k: number) => unknown;
}

const loadNow = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const measureInterleaved = (engines: readonly Engine[], inputs: number): Stats[] => {
  for (const e of engines) for (let i = 0; i < e.warmup; i++) e.decide(i % inputs);
  const samples = engines.map((e) => new Float64Array(e.block * ROUNDS));
  const batchNs = engines.map(() => 0);
  const cpuUs = engines.map(() => 0);
  const cursor = engines.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < engines.length; j++) {
      const x = (round + j) % engines.length; // rotate who goes first
      const e = engines[x]!;
      const out = samples[x]!;
      let k = (round * 7919) % inputs;
      for (let i = 0; i < e.block; i++, k = k + 1 === inputs ? 0 : k + 1) {
        const s = process.hrtime.bigint();
        e.decide(k);
        out[cursor[x]!++] = Number(process.hrtime.bigint() - s);
      }
    }
    for (let j = 0; j < engines.length; j++) {
      const x = (round + j) % engines.length;
      const e = engines[x]!;
      let k = (round * 104729) % inputs;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < e.block; i++, k = k + 1 === inputs ? 0 : k + 1) e.decide(k);
      batchNs[x]! += Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      cpuUs[x]! += c.user + c.system;
    }
  }
  return engines.map((e, x) => {
    const sorted = samples[x]!.sort();
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! / 1000;
    let sum = 0;
    for (const v of sorted) sum += v;
    const decisions = e.block * ROUNDS;
    const stats: Stats = {
      p50Us: round(q(0.5)),
      p99Us: round(q(0.99)),
      meanUs: round(sum / sorted.length / 1000),
      batchMeanUs: round(batchNs[x]! / decisions / 1000),
      cpuUs: round(cpuUs[x]! / decisions),
      opsPerSec: Math.round(decisions / (batchNs[x]! / 1e9)),
      samples: sorted.length,
    };
    console.log(
      `${e.label.padEnd(30)} p50 ${fmt(stats.p50Us)} µs   p99 ${fmt(stats.p99Us)} µs   mean ${fmt(stats.meanUs)} µs   ` +
        `batch mean ${fmt(stats.batchMeanUs)} µs (cpu ${fmt(stats.cpuUs)} µs)   ${stats.opsPerSec.toLocaleString('en-US').padStart(10)} decisions/s   ` +
        `(${stats.samples.toLocaleString('en-US')} samples)`,
    );
    return stats;
  });
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
      // The benchmark brings what it needs: OPA from the Go module proxy, pinned by tools/opa/go.mod (first run only).
      console.log(`building opa ${OPA_VERSION} from Go module source (first run only, a few minutes)...`);
      mkdirSync(dirname(OPA_BIN), { recursive: true });
      execFileSync('go', ['build', '-o', `${OPA_BIN}.partial`, 'github.com/open-policy-agent/opa'], {
        cwd: join(ROOT, 'tools/opa'),
        env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
        stdio: 'inherit',
      });
      renameSync(`${OPA_BIN}.partial`, OPA_BIN);
    }
    mkdirSync(outDir, { recursive: true });
    const bundle = join(outDir, 'bundle.tar.gz');
    execFileSync(OPA_BIN, ['build', '-t', 'wasm', '-e', 'grantline/decision', '-o', bundle, join(__dirname, 'policy/rego/grantline.rego')]);
    execFileSync('tar', ['-xzf', bundle, '-C', outDir, '/policy.wasm']);
  }
  return readFileSync(wasm);
};

const main = async (): Promise<void> => {
  const loadBefore = loadavg();
  console.log(
    `policy benchmark · node ${process.version} · ${ROUNDS} interleaved rounds · load average (1/5/15 min) ${loadNow()} on ${availableParallelism()} cores\n`,
  );
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
    const stages = a.response.diagnostics.reason
      .filter((p) => p.startsWith('stage:'))
      .map((p) => p.slice(6))
      .sort();
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
  console.log(
    `effects:   ${Object.entries(effects)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );

  const [gl, glZod, rego, ced] = measureInterleaved(
    [
      { label: 'grantline (validated input)', block: 4096, warmup: 50_000, decide: (k) => evaluateValidated(bundle, inputs[k]!) },
      { label: 'grantline (+ zod validation)', block: 2048, warmup: 20_000, decide: (k) => evaluate(bundle, drafts[k]!) },
      { label: 'opa-wasm (Rego)', block: 1024, warmup: 10_000, decide: (k) => opa.evaluate(regoInputs[k]!) },
      { label: 'cedar-wasm (Cedar)', block: 64, warmup: 500, decide: (k) => cedar.statefulIsAuthorized(cedarCalls[k]!) },
    ],
    inputs.length,
  ) as [Stats, Stats, Stats, Stats];
  const loadAfter = loadavg();
  console.log(`load average after the decision runs: ${loadNow()}`);

  // --- 1,000-rule bundle compile
  const files = thousandRuleBundle();
  const compileMs: number[] = [];
  const compileCpuMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    const b = loadBundleFromFiles(files);
    compileMs.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    compileCpuMs.push((c.user + c.system) / 1000);
    if (b.rules.length !== 1000) throw new Error('expected 1000 rules');
  }
  const firstCompile = round(compileMs[0]!);
  const medianCompile = round([...compileMs].sort((a, b) => a - b)[2]!);
  const firstCompileCpu = round(compileCpuMs[0]!);
  const medianCompileCpu = round([...compileCpuMs].sort((a, b) => a - b)[2]!);
  console.log(
    `\n1,000-rule bundle compile: first ${firstCompile} ms, median of 5 ${medianCompile} ms (goal ≤ 200 ms); ` +
      `process CPU time first ${firstCompileCpu} ms, median ${medianCompileCpu} ms · load average ${loadNow()}`,
  );

  const ratio = (a: Stats, b: Stats) => ({
    p50: round(b.p50Us / a.p50Us),
    p99: round(b.p99Us / a.p99Us),
    throughput: round(a.opsPerSec / b.opsPerSec),
    cpu: round(b.cpuUs / a.cpuUs),
  });
  const vsOpa = ratio(gl, rego);
  const vsCedar = ratio(gl, ced);
  console.log(`\nratios (how many times faster grantline is; cpu = process CPU time per decision):`);
  console.log(`  vs opa-wasm:   p50 ${vsOpa.p50}×  p99 ${vsOpa.p99}×  throughput ${vsOpa.throughput}×  cpu ${vsOpa.cpu}×   (goal ≥ 10× on p50 and throughput)`);
  console.log(
    `  vs cedar-wasm: p50 ${vsCedar.p50}×  p99 ${vsCedar.p99}×  throughput ${vsCedar.throughput}×  cpu ${vsCedar.cpu}×   (goal ≥ 5× on p50 and throughput)`,
  );
  const goals = {
    p99Le20us: gl.p99Us <= 20,
    tenTimesOpa: vsOpa.p50 >= 10 && vsOpa.throughput >= 10,
    fiveTimesCedar: vsCedar.p50 >= 5 && vsCedar.throughput >= 5,
    compile1000Le200ms: firstCompile <= 200,
  };
  console.log(
    `\ngoals: ${Object.entries(goals)
      .map(([k, v]) => `${k} ${v ? 'MET' : 'MISSED'}`)
      .join(' · ')}`,
  );
  const summary = {
    bench: 'policy',
    node: process.version,
    rounds: ROUNDS,
    loadAverage: Number(loadBefore[0]!.toFixed(2)),
    loadAverageAfter: Number(loadAfter[0]!.toFixed(2)),
    cores: availableParallelism(),
    inputs: inputs.length,
    agreement: agree,
    grantline: gl,
    grantlineWithValidation: glZod,
    opaWasm: rego,
    cedarWasm: ced,
    ratios: { vsOpa, vsCedar },
    compile1000Rules: { firstMs: firstCompile, medianMs: medianCompile, firstCpuMs: firstCompileCpu, medianCpuMs: medianCompileCpu },
    goals,
  };
  writeFileSync(join(ROOT, '.cache/policy-bench-last.json'), JSON.stringify(summary));
  console.log(JSON.stringify(summary));
};

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
