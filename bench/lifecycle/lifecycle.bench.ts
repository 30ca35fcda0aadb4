/**
 * `npm run bench:lifecycle`: the whole lifecycle as a benchmark. The platform is started as `npm start` starts it
 * (its own Kafka namespace and databases), people are registered through the identity source, and auto-approved
 * requests go in over HTTP and over the inbound ITSM topic: closed loop (C clients) for the highest rate, then open
 * loop at fractions of it, then revocation of the closed-loop HTTP grants. Provisioned / revoked means provisioning
 * recorded grant.activated / grant.revoked after the connector's GRANT / REVOKE, confirmed per phase in pg_auth_members.
 *
 * BENCH_LIFECYCLE_REQUESTS (1000; quick 50) per phase, _CONCURRENCY (16; quick 4), _RATES (fractions, "0.5,0.8"),
 * _RATE_BASIS (sustained | submit), _CHANNELS ("http,itsm"), _BASELINE_EVENTS (B1 events, 20000; quick 2000; 0 skips),
 * _PHASE_TIMEOUT_MS (600000; quick 180000: a phase that runs out reports how many timed out, and its channel's later
 * open loops are skipped), _QUICK=1, _KEEP_DATA=1 (keep topics and databases). Ends with one JSON line.
 */
import { TOPICS } from '@grantline/contracts';
import { globalSetup, globalTeardown } from '@grantline/testing';
import { ENTITLEMENT, GROUP_ROLE, IntakeDriver } from './api';
import { runBaseline } from './baseline';
import type { Baseline } from './baseline';
import { GrantWatcher, closedLoop, openLoop } from './drivers';
import type { Send, Sent } from './drivers';
import { BenchPlatform } from './platform';
import { formatReport } from './report';
import type { LifecycleReport, PhaseResult } from './report';
import { cpuMicrosPerRequest, latencyOf, perSecond, round, sampleCpu } from './stats';
import type { CpuTarget } from './stats';
import { PostgresTarget } from './target';

const say = (line: string): void => void process.stderr.write(`lifecycle | ${line}\n`);

function settings() {
  const env = process.env;
  const quick = env['BENCH_LIFECYCLE_QUICK'] === '1';
  const num = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${env[name]} is not a non-negative number`);
    return value;
  };
  const basis = env['BENCH_LIFECYCLE_RATE_BASIS'] ?? 'sustained';
  if (basis !== 'sustained' && basis !== 'submit') throw new Error(`BENCH_LIFECYCLE_RATE_BASIS=${basis}: expected sustained or submit`);
  const channels = (env['BENCH_LIFECYCLE_CHANNELS'] ?? 'http,itsm').split(',').map((c) => c.trim());
  if (channels.some((c) => c !== 'http' && c !== 'itsm')) throw new Error('BENCH_LIFECYCLE_CHANNELS: http and/or itsm');
  return {
    quick,
    requests: Math.max(1, Math.floor(num('BENCH_LIFECYCLE_REQUESTS', quick ? 50 : 1000))),
    concurrency: Math.max(1, Math.floor(num('BENCH_LIFECYCLE_CONCURRENCY', quick ? 4 : 16))),
    rates: (env['BENCH_LIFECYCLE_RATES'] ?? '0.5,0.8')
      .split(',')
      .map(Number)
      .filter((f) => f > 0),
    rateBasis: basis,
    channels: channels as ('http' | 'itsm')[],
    baselineEvents: Math.floor(num('BENCH_LIFECYCLE_BASELINE_EVENTS', quick ? 2_000 : 20_000)),
    phaseTimeoutMs: num('BENCH_LIFECYCLE_PHASE_TIMEOUT_MS', quick ? 180_000 : 600_000),
    entitlement: ENTITLEMENT,
  };
}
type Settings = ReturnType<typeof settings>;

interface Context {
  readonly cfg: Settings;
  readonly watcher: GrantWatcher;
  readonly pg: PostgresTarget;
  readonly targets: readonly CpuTarget[];
}

interface PhaseSpec {
  readonly channel: 'http' | 'itsm';
  readonly operation: 'provision' | 'revoke';
  readonly keys: readonly string[];
  readonly send: Send;
  readonly concurrency?: number;
  readonly ratePerSec?: number;
  readonly label?: string;
}

async function runPhase(ctx: Context, spec: PhaseSpec): Promise<PhaseResult> {
  const mode = spec.ratePerSec === undefined ? 'closed' : 'open';
  const name = spec.label ?? `${spec.operation === 'revoke' ? 'revoke' : spec.channel}-${mode}${spec.ratePerSec === undefined ? '' : `-${spec.ratePerSec}`}`;
  say(`${name}: ${spec.keys.length} requests ${mode === 'closed' ? `from ${spec.concurrency} clients` : `at ${spec.ratePerSec}/s`}`);
  const outcomes = spec.operation === 'revoke' ? ctx.watcher.revokedAt : ctx.watcher.activatedAt;
  const cpuBefore = sampleCpu(ctx.targets);
  const driverBefore = process.cpuUsage();
  const started = performance.now();
  const sent: Sent[] =
    mode === 'closed' ? await closedLoop(spec.keys, spec.concurrency ?? 1, spec.send) : await openLoop(spec.keys, spec.ratePerSec ?? 1, spec.send);
  const accepted = sent.filter((s) => s.error === undefined);
  const missing = await ctx.watcher.waitFor(
    accepted.map((s) => s.key),
    outcomes,
    ctx.cfg.phaseTimeoutMs,
  );
  if (missing.length > 0)
    say(`${name}: WARNING ${missing.length} of ${accepted.length} without an outcome after ${ctx.cfg.phaseTimeoutMs} ms (e.g. ${missing[0]})`);
  const cpu = cpuMicrosPerRequest(cpuBefore, sampleCpu(ctx.targets), spec.keys.length);
  const driver = process.cpuUsage(driverBefore);
  cpu['bench-driver'] = Math.round((driver.user + driver.system) / spec.keys.length);
  const wallMs = performance.now() - started;
  const done = accepted.filter((s) => outcomes.has(s.key));
  const first = Math.min(...sent.map((s) => s.intendedAt));
  const lastAck = Math.max(...accepted.map((s) => s.ackAt ?? first));
  const lastOutcome = Math.max(...done.map((s) => outcomes.get(s.key) ?? first));
  const members = await ctx.pg.membersOf(GROUP_ROLE, spec.keys);
  const result: PhaseResult = {
    name,
    channel: spec.channel,
    operation: spec.operation,
    mode,
    ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
    ...(spec.ratePerSec === undefined ? {} : { targetRatePerSec: spec.ratePerSec }),
    requests: spec.keys.length,
    accepted: accepted.length,
    rejected: sent.length - accepted.length,
    ...(sent.find((s) => s.error)?.error === undefined ? {} : { firstRejection: sent.find((s) => s.error)?.error as string }),
    failed: accepted.filter((s) => ctx.watcher.failed.has(s.key)).length,
    timedOut: missing.length,
    submittedPerSec: perSecond(accepted.length, lastAck - first),
    completedPerSec: perSecond(done.length, lastOutcome - first),
    submitLatencyMs: latencyOf(accepted.map((s) => (s.ackAt ?? s.intendedAt) - s.intendedAt)),
    endToEndMs: latencyOf(done.map((s) => (outcomes.get(s.key) as number) - s.intendedAt)),
    membersInPostgres: members,
    wallMs: Math.round(wallMs),
    cpuMicrosPerRequest: cpu,
  };
  const expected = spec.operation === 'revoke' ? 0 : done.length;
  if (members !== expected) say(`${name}: WARNING pg_auth_members shows ${members} members, expected ${expected}`);
  say(
    `${name}: ${result.submittedPerSec} submitted/s, ${result.completedPerSec} ${spec.operation === 'revoke' ? 'revoked' : 'provisioned'}/s, p50 ${result.endToEndMs.p50} ms`,
  );
  return result;
}

export async function runLifecycleBench(): Promise<void> {
  const cfg = settings();
  const notes: string[] = [];
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  let cleaning: Promise<void> | undefined;
  // Last in, first out; every step runs even when an earlier one failed, and only once (a signal may race the finally).
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) await step.run().catch((error: unknown) => say(`teardown: ${step.name} failed: ${String(error)}`));
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: tearing down`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await globalSetup();
    cleanups.push({ name: 'infrastructure', run: () => globalTeardown() });
    let baseline: Baseline | undefined;
    if (cfg.baselineEvents > 0) {
      say(`baseline: B1 with ${cfg.baselineEvents} events`);
      baseline = await runBaseline(cfg.baselineEvents, (line) => process.stdout.write(`${line}\n`));
    }

    // Registered so that teardown stops the services before it drops the logins and data they work on.
    const started: { platform?: BenchPlatform } = {};
    cleanups.push({ name: 'platform data', run: async () => started.platform?.deleteData() });
    const pg = await PostgresTarget.connect();
    cleanups.push({ name: 'PostgreSQL logins', run: () => pg.close() });
    cleanups.push({ name: 'services', run: async () => started.platform?.stop() });
    const startedAt = Date.now();
    const platform = (started.platform = await BenchPlatform.create());
    await platform.launch(say);
    const startupMs = Date.now() - startedAt;
    const itsmBus = platform.bus('itsm');
    const watcherBus = platform.bus('watcher');
    cleanups.push({ name: 'bench buses', run: () => Promise.all([itsmBus.disconnect(), watcherBus.disconnect()]) });
    const watcher = new GrantWatcher(watcherBus);
    await watcher.start();
    await itsmBus.ensureTopics([{ topic: TOPICS.itsmInbound }]);

    // Everyone up front, so registration is not part of any phase: one set of people per phase, plus a warm-up set.
    const phasesPerChannel = 1 + cfg.rates.length;
    const runId = platform.runId;
    const people = (set: string, n: number): string[] => Array.from({ length: n }, (_, i) => `bench_${runId}_${set}_${i}`);
    const warm = people('warm', Math.min(20, cfg.requests));
    const sets = cfg.channels.flatMap((channel) => Array.from({ length: phasesPerChannel }, (_, p) => people(`${channel}${p}`, cfg.requests)));
    const everyone = [...warm, ...sets.flat()];
    await pg.ensureGroupRole(GROUP_ROLE);
    say(`creating ${everyone.length} logins in PostgreSQL and registering them through the identity source`);
    await pg.createLogins(everyone);
    const api = new IntakeDriver(platform, itsmBus);
    await api.registerPeople(everyone, `bench_${runId}_manager`, cfg.concurrency);

    const ctx: Context = { cfg, watcher, pg, targets: platform.cpuTargets() };
    const missing = ['kafka-broker', 'ferretdb', 'postgresql'].filter((name) => !ctx.targets.some((t) => t.name === name));
    if (missing.length > 0) notes.push(`no pid for ${missing.join(', ')} (infrastructure given through env): their CPU is not measured`);
    say(`warm-up: ${warm.length} requests end to end (not reported)`);
    const warmUp = await runPhase(ctx, {
      channel: 'http',
      operation: 'provision',
      keys: warm,
      send: (id) => api.submitHttp(id),
      concurrency: cfg.concurrency,
      label: 'warm-up',
    });
    // Nothing measured after this could be right if the simplest request does not go through.
    if (warmUp.rejected + warmUp.failed + warmUp.timedOut > 0) {
      throw new Error(
        `warm-up: ${warmUp.rejected} rejected (${warmUp.firstRejection ?? '-'}), ${warmUp.failed} failed, ${warmUp.timedOut} not provisioned; service logs in ${platform.logDir}`,
      );
    }

    const phases: PhaseResult[] = [];
    let setIndex = 0;
    for (const channel of cfg.channels) {
      const send: Send = channel === 'http' ? (id) => api.submitHttp(id) : (id) => api.submitItsm(id);
      const closed = await runPhase(ctx, { channel, operation: 'provision', keys: sets[setIndex] ?? [], send, concurrency: cfg.concurrency });
      phases.push(closed);
      // An open loop above what the pipeline sustains only measures a growing queue: by default the basis is the
      // closed loop's sustained rate (the lower of submitted/s and provisioned/s), `submit` takes the edge's alone.
      const basis = cfg.rateBasis === 'submit' ? closed.submittedPerSec : Math.min(closed.submittedPerSec, closed.completedPerSec);
      for (const [i, fraction] of cfg.rates.entries()) {
        // A backlog left by a phase that timed out would be measured as the next phase's latency.
        if (phases.at(-1)?.timedOut) {
          notes.push(`${channel}: skipped the open loop at ${fraction} and after, the previous phase timed out`);
          break;
        }
        const ratePerSec = Math.max(0.1, round(basis * fraction, 2));
        phases.push(await runPhase(ctx, { channel, operation: 'provision', keys: sets[setIndex + 1 + i] ?? [], send, ratePerSec }));
      }
      setIndex += phasesPerChannel;
    }
    // Revocation of the first closed loop's grants (HTTP when it ran), by their beneficiaries, closed loop.
    const revokable = (sets[0] ?? []).filter((id) => watcher.grantOf.has(id) && watcher.activatedAt.has(id));
    phases.push(
      await runPhase(ctx, {
        channel: cfg.channels[0] ?? 'http',
        operation: 'revoke',
        keys: revokable,
        send: (id) => api.revoke(id, watcher.grantOf.get(id) as string),
        concurrency: cfg.concurrency,
      }),
    );

    notes.push(
      `open-loop rates are ${cfg.rates.join(', ')} x the closed loop's ${cfg.rateBasis === 'submit' ? 'submitted/s' : 'sustained rate (min of submitted/s and provisioned/s)'}`,
      'Kafka, FerretDB and PostgreSQL are shared with anything else using the local infrastructure; the driver shares the cores',
    );
    const report: LifecycleReport = {
      bench: 'lifecycle',
      runId: platform.runId,
      config: { ...cfg },
      startupMs,
      ...(baseline === undefined ? {} : { baseline }),
      phases,
      observerDelayMsP50: latencyOf(watcher.observerDelayMs).p50,
      notes,
    };
    await watcher.stop();
    process.stdout.write(`${formatReport(report)}\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await cleanUp();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
