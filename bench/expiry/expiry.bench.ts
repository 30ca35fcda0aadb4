/**
 * `npm run bench:expiry`: a million active grants expiring on time (issue 12, item 6).
 *
 * The grants: 88 % uniform over 30 days from the load, 2 % for 400 days, 10 % (the spike) all in one millisecond a
 * few seconds after the load, and, while the scheduler is down, 1 % more that expire during each of two outages. For each
 * variant, the same grants at the same offsets:
 * (a) baseline, a naive poll: the grants as documents in the local MongoDB-wire store, `find({ expiresAt ≤ now })`
 *     every second, then marked fired;
 * (b) the scheduler: its runtime as the service runs it, in a process of its own on the run's Kafka namespace; the
 *     bench publishes `iga.grant.created` + `iga.grant.activated` per grant as provisioning would, waits until it has
 *     folded them, weighs its heap (forced GC), lets the spike come due, watches `iga.timer.fired` on the log, then
 *     `kill -9`s it, publishes the outage grants, restarts it and times how long until every overdue grant fired; then
 *     once more. Its snapshots are kept as the service keeps them (MongoSnapshotStore, ADR 0037), in a database of the
 *     run: the first restart finds none (the first start replayed an empty log), replays the whole log (the same-run
 *     baseline) and writes one; the second restores it and replays only the log after it.
 * Emission time is a firing's record timestamp on the log; lateness = emission - expiresAt. Grants that expired before
 * their facts were even published (the first minutes of the uniform cohort) are checked but left out of lateness.
 *
 * `-- --quick` (or BENCH_EXPIRY_QUICK=1): 20,000 grants. BENCH_EXPIRY_GRANTS (1,000,000), BENCH_EXPIRY_PARTITIONS (3),
 * BENCH_EXPIRY_BASELINE=0 skips (a), BENCH_EXPIRY_WINDOW_MS (20,000; quick 8,000: how long after the spike each
 * variant keeps watching), BENCH_EXPIRY_KEEP_DATA=1, BENCH_EXPIRY_PROFILE_DIR (a CPU profile of the scheduler from the
 * spike's publication until it cleared, and of the restarted one from its start until the overdue fired, as node
 * --cpu-prof would write them), BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS (a snapshot after a start-up replay of at least this
 * many events; default the service's 100,000, at most the grant count). SCHEDULER_TICK_INTERVAL_MS / _BATCH_SIZE reach
 * the scheduler as they reach the service. Ends with one JSON line.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { createConnection } from 'mongoose';
import { globalSetup, globalTeardown, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { latencyOf, round } from '../lifecycle/stats';
import type { Latency } from '../lifecycle/stats';
import { FiringLog } from './firings';
import { GrantSet, grantFactsBuilder } from './grant-set';
import { runNaivePoll } from './naive-poll';
import type { SchedulerHeap, SchedulerQuery, SchedulerSnapshotWritten, SchedulerStatus } from './scheduler-process';

const say = (line: string): void => void process.stderr.write(`expiry | ${line}\n`);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const PUBLISH_CHUNK = 2_000;
const GOALS = { p99Ms: 1_000, p999Ms: 2_000, spikeClearedMs: 10_000, bytesPerGrant: 150, recoveryMs: 30_000 } as const;

function settings() {
  const env = process.env;
  const quick = env['BENCH_EXPIRY_QUICK'] === '1' || process.argv.includes('--quick');
  const whole = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${env[name]} is not a whole number`);
    return value;
  };
  const grants = whole('BENCH_EXPIRY_GRANTS', quick ? 20_000 : 1_000_000);
  if (grants < 100) throw new Error(`BENCH_EXPIRY_GRANTS=${grants}: at least 100`);
  const spike = Math.round(grants / 10);
  const long = Math.round(grants / 50);
  return {
    quick,
    // two outages (one per restart), each of 1 % of the grants
    counts: { uniform: grants - spike - long, long, spike, outage: 2 * Math.max(10, Math.round(grants / 100)) },
    snapshotMinEvents: whole('BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS', Math.min(100_000, grants)),
    partitions: Math.max(1, whole('BENCH_EXPIRY_PARTITIONS', 3)),
    baseline: env['BENCH_EXPIRY_BASELINE'] !== '0',
    windowMs: whole('BENCH_EXPIRY_WINDOW_MS', quick ? 8_000 : 20_000),
    keepData: env['BENCH_EXPIRY_KEEP_DATA'] === '1',
    profileDir: env['BENCH_EXPIRY_PROFILE_DIR'],
  };
}

/** The scheduler process: forked with --expose-gc, answering queries over IPC. */
class SchedulerChild {
  private constructor(
    readonly child: ChildProcess,
    readonly exited: Promise<void>,
  ) {}

  static async start(namespace: string, env: NodeJS.ProcessEnv = {}): Promise<{ scheduler: SchedulerChild; spawnedAt: number; startedAt: number }> {
    const spawnedAt = Date.now();
    const child = fork(join(__dirname, 'scheduler-process.ts'), [], {
      cwd: join(__dirname, '../..'),
      execArgv: ['--no-warnings', '--expose-gc', '--max-old-space-size=8192', '-r', '@swc-node/register'],
      env: { ...process.env, ...env, BENCH_EXPIRY_NAMESPACE: namespace },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.once('exit', () => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { kind?: string }): void => {
        if (message.kind !== 'started') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error('the scheduler process exited before it started')));
    });
    return { scheduler: new SchedulerChild(child, exited), spawnedAt, startedAt: Date.now() };
  }

  ask<T extends SchedulerStatus | SchedulerHeap | SchedulerSnapshotWritten | { kind: 'profile-start' | 'profile-stop' }>(query: SchedulerQuery): Promise<T> {
    return new Promise((resolve) => {
      const onMessage = (message: T): void => {
        if (message.kind !== query.kind) return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send(query);
    });
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.child.kill(signal);
    await this.exited;
  }
}

/** One kill -9 and restart: the overdue grants, how long until they all fired, what the start did. */
interface RestartOutcome {
  readonly overdue: number;
  readonly recoveryMs: number;
  readonly rebuild: SchedulerStatus['rebuild'];
  readonly consumingLiveMs: number;
  readonly snapshotWritten: SchedulerSnapshotWritten['written'] | null;
}

interface Sample {
  readonly lateness: Latency;
  readonly count: number;
}

function latenessOf(indices: Iterable<number>, emittedAt: Float64Array, grants: GrantSet): Sample {
  const samples: number[] = [];
  for (const i of indices) {
    const emitted = emittedAt[i] as number;
    if (!Number.isNaN(emitted)) samples.push(emitted - (grants.expiresAt[i] as number));
  }
  return { lateness: latencyOf(samples), count: samples.length };
}

function* range(from: number, to: number, keep: (index: number) => boolean = () => true): Generator<number> {
  for (let i = from; i < to; i += 1) if (keep(i)) yield i;
}

/** Clearing time of a cohort due in one instant: its last emission minus that instant (NaN when some never fired). */
function clearedMs(from: number, to: number, emittedAt: Float64Array, at: number): number {
  let last = 0;
  for (let i = from; i < to; i += 1) {
    const emitted = emittedAt[i] as number;
    if (Number.isNaN(emitted)) return Number.NaN;
    last = Math.max(last, emitted);
  }
  return last - at;
}

async function publishFacts(bus: KafkaMessageBus, grants: GrantSet, from: number, to: number, armedAt: Float64Array): Promise<number> {
  const facts = grantFactsBuilder();
  const started = Date.now();
  for (let i = from; i < to; i += PUBLISH_CHUNK / 2) {
    const end = Math.min(to, i + PUBLISH_CHUNK / 2);
    const events: Envelope[] = [];
    for (let j = i; j < end; j += 1) events.push(...facts(grants, j));
    await bus.publisher.publish(TOPICS.grants, events);
    armedAt.fill(Date.now(), i, end);
  }
  return Date.now() - started;
}

async function waitFolded(scheduler: SchedulerChild, events: number, timeoutMs: number): Promise<SchedulerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await scheduler.ask<SchedulerStatus>({ kind: 'status' });
    if (status.folded >= events) return status;
    if (Date.now() > deadline) throw new Error(`the scheduler folded ${status.folded} of ${events} grant facts in ${timeoutMs} ms`);
    await pause(250);
  }
}

async function dropDatabase(name: string): Promise<void> {
  const connection = await createConnection(mongoDatabaseUrl(name)).asPromise();
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

const seconds = (ms: number): string => (Number.isNaN(ms) ? 'never' : `${(ms / 1000).toFixed(2)} s`);
const fmt = (l: Latency): string => `${l.p50} / ${l.p99} / ${l.p999} / max ${l.max} ms (n=${l.count})`;
const met = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

export async function runExpiryBench(): Promise<void> {
  const cfg = settings();
  const load = [loadavg()[0] ?? 0];
  await globalSetup();
  const run = uniqueName('bench_expiry');
  const namespace = run.replace(/_/g, '-');
  const grants = new GrantSet(run.slice(-8), cfg.counts);
  const active = cfg.counts.uniform + cfg.counts.long + cfg.counts.spike;
  say(
    `${active} active grants (${cfg.counts.uniform} uniform over 30 days, ${cfg.counts.long} for 400 days, a spike of ${cfg.counts.spike} in one millisecond) ` +
      `+ ${cfg.counts.outage} expiring while the scheduler is down (half in each of two outages); load average ${load[0]?.toFixed(2)}`,
  );
  const spikeMargin = (perSec: number): number => Math.round((cfg.counts.spike / Math.max(1, perSec)) * 1.5 * 1000) + 3_000;

  // (a) baseline
  let baseline: Record<string, unknown> | undefined;
  if (cfg.baseline) {
    const poll = await runNaivePoll(
      grants,
      { database: `${run}_naive`, spikeMarginMs: spikeMargin, windowMs: cfg.windowMs, timeoutMs: cfg.quick ? 60_000 : 180_000 },
      say,
    );
    const steady = latenessOf(
      range(
        grants.ranges.uniform.from,
        grants.ranges.uniform.to,
        (i) => (grants.expiresAt[i] as number) >= (poll.armedAt[i] as number) && (grants.expiresAt[i] as number) <= poll.stoppedAt,
      ),
      poll.emittedAt,
      grants,
    );
    const spike = latenessOf(range(grants.ranges.spike.from, grants.ranges.spike.to), poll.emittedAt, grants);
    const cleared = clearedMs(grants.ranges.spike.from, grants.ranges.spike.to, poll.emittedAt, poll.spikeAt);
    const spikeFired = [...range(grants.ranges.spike.from, grants.ranges.spike.to, (i) => (poll.count[i] as number) > 0)].length;
    const polls = latencyOf(poll.pollMs);
    say(`baseline: polls took p50 ${polls.p50} ms, max ${polls.max} ms (${polls.count} polls)`);
    say(
      `baseline: spike ${spikeFired}/${cfg.counts.spike} fired, cleared in ${seconds(cleared)}; lateness spike ${fmt(spike.lateness)}; steady ${fmt(steady.lateness)}`,
    );
    baseline = {
      store: 'FerretDB (MONGO_URL)',
      insertedPerSec: poll.insertedPerSec,
      loadMs: poll.loadMs,
      pollMs: polls,
      steadyLatenessMs: steady.lateness,
      spikeLatenessMs: spike.lateness,
      spikeFired,
      spikeClearedMs: Number.isNaN(cleared) ? null : cleared,
    };
    // grants.expiresAt is placed again for the scheduler's own timeline
  }

  // (b) the scheduler, its snapshots in a database of the run (ADR 0037)
  const snapshotDatabase = `${run}_snapshots`;
  const snapshotEnv = { BENCH_EXPIRY_SNAPSHOT_DB: snapshotDatabase, BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS: String(cfg.snapshotMinEvents) };
  const bus = new KafkaMessageBus({ clientId: run, brokers: (process.env['KAFKA_BROKERS'] ?? '').split(','), registry, logger: silentLogger, namespace });
  let scheduler: SchedulerChild | undefined;
  try {
    await bus.connect();
    await bus.ensureTopics([TOPICS.grants, TOPICS.approvals, TOPICS.schedule].map((topic) => ({ topic, partitions: cfg.partitions })));
    const firings = new FiringLog(bus, TOPICS.schedule, grants);
    const armedAt = new Float64Array(grants.size).fill(Number.NaN);
    ({ scheduler } = await SchedulerChild.start(namespace, snapshotEnv));
    const heapBefore = await scheduler.ask<SchedulerHeap>({ kind: 'heap' });

    const loadStart = Date.now();
    grants.placeBackground(loadStart);
    const background = cfg.counts.uniform + cfg.counts.long;
    const publishMs = await publishFacts(bus, grants, grants.ranges.uniform.from, grants.ranges.long.to, armedAt);
    say(
      `scheduler: ${background * 2} grant facts published in ${(publishMs / 1000).toFixed(1)} s (${Math.round((background * 2) / (publishMs / 1000))} events/s)`,
    );
    await waitFolded(scheduler, background * 2, cfg.quick ? 300_000 : 1_800_000);
    const foldMs = Date.now() - loadStart;
    const foldedPerSec = Math.round((background * 2) / (foldMs / 1000));
    say(`scheduler: all folded ${(foldMs / 1000).toFixed(1)} s after the load began (${foldedPerSec} events/s end to end)`);
    const heapAfter = await scheduler.ask<SchedulerHeap>({ kind: 'heap' });
    const bytesPerGrant = Math.round((heapAfter.heapUsed - heapBefore.heapUsed) / background);
    const rssPerGrant = Math.round((heapAfter.rss - heapBefore.rss) / background);
    say(
      `scheduler: heap ${Math.round(heapBefore.heapUsed / 1_048_576)} → ${Math.round(heapAfter.heapUsed / 1_048_576)} MiB after forced GC for ${background} grants ` +
        `(${heapAfter.pending} pending): ${bytesPerGrant} B/grant heap (V8 heap + ArrayBuffers), ${rssPerGrant} B/grant RSS; ` +
        `the book's typed columns ${Math.round(heapAfter.bookColumnBytes / background)} B/grant of it`,
    );

    const spikeAt = Date.now() + spikeMargin(foldedPerSec / 2);
    grants.place('spike', spikeAt);
    if (cfg.profileDir !== undefined) await scheduler.ask({ kind: 'profile-start' });
    await publishFacts(bus, grants, grants.ranges.spike.from, grants.ranges.spike.to, armedAt);
    const spikeFolded = await waitFolded(scheduler, (background + cfg.counts.spike) * 2, 600_000);
    const foldedBeforeDue = Date.now() <= spikeAt;
    say(
      `scheduler: spike of ${cfg.counts.spike} due at +${spikeAt - loadStart} ms, folded ${foldedBeforeDue ? 'before' : 'AFTER'} it was due (${spikeFolded.pending} pending)`,
    );
    const spike = grants.ranges.spike;
    await firings.until(
      () => firings.firedIn(spike.from, spike.to) === cfg.counts.spike && Date.now() >= spikeAt + cfg.windowMs,
      cfg.quick ? 120_000 : 600_000,
    );
    if (cfg.profileDir !== undefined) {
      const file = join(cfg.profileDir, `scheduler-spike-${run}.cpuprofile`);
      await scheduler.ask({ kind: 'profile-stop', file });
      say(`scheduler: CPU profile of the spike (publish, fold, fire) in ${file}`);
    }

    // kill -9, grants expiring during the outage, restart; twice. The first restart has no snapshot yet (the first
    // start replayed an empty log) and replays the whole log: the same-run baseline, and the snapshot it writes
    // after its replay is the one the second restart starts from, replaying only the log after it.
    const killAt = Date.now();
    const restartAfterOutage = async (label: 'full-replay' | 'from-snapshot', from: number, to: number): Promise<RestartOutcome> => {
      const killedAt = Date.now();
      await scheduler?.kill('SIGKILL');
      scheduler = undefined;
      await firings.poll();
      const outageAt = Date.now() + 1_000;
      for (let i = from; i < to; i += 1) grants.expiresAt[i] = outageAt + Math.floor(((i - from) * 2_000) / Math.max(1, to - from));
      await publishFacts(bus, grants, from, to, armedAt);
      const outageEnd = outageAt + 3_000;
      if (Date.now() < outageEnd) await pause(outageEnd - Date.now());
      await firings.poll();
      const restartAt = Date.now();
      // published grants only: the second outage's are not placed yet at the first restart
      const overdue = [
        ...range(0, grants.size, (i) => !Number.isNaN(armedAt[i] as number) && (grants.expiresAt[i] as number) <= restartAt && firings.count[i] === 0),
      ];
      say(`scheduler (${label}): killed (-9), restarted ${restartAt - killedAt} ms later with ${overdue.length} grants overdue`);
      const restarted = await SchedulerChild.start(namespace, {
        ...snapshotEnv,
        ...(cfg.profileDir === undefined ? {} : { BENCH_EXPIRY_PROFILE_FROM_START: '1' }),
      });
      scheduler = restarted.scheduler;
      const status = await scheduler.ask<SchedulerStatus>({ kind: 'status' });
      const rebuild = status.rebuild;
      say(
        `scheduler (${label}): ` +
          (rebuild?.snapshot
            ? `restored a snapshot of ${rebuild.snapshot.events} events in ${rebuild.snapshot.restoreMs} ms, then replayed ${rebuild.events} events after it (${rebuild.millis} ms in all)`
            : `replayed ${rebuild?.events ?? '?'} events in ${rebuild?.millis ?? '?'} ms${rebuild?.snapshotSkipped ? ` (no snapshot: ${rebuild.snapshotSkipped})` : ''}`) +
          `, consuming live ${restarted.startedAt - restartAt} ms after the restart`,
      );
      const recovered = await firings.until(() => overdue.every((i) => firings.count[i] !== 0), cfg.quick ? 300_000 : 900_000);
      let lastOverdue = 0;
      for (const i of overdue) lastOverdue = Math.max(lastOverdue, firings.emittedAt[i] as number);
      const recoveryMs = recovered ? lastOverdue - restartAt : Number.NaN;
      if (cfg.profileDir !== undefined) {
        const file = join(cfg.profileDir, `scheduler-restart-${label}-${run}.cpuprofile`);
        await scheduler.ask({ kind: 'profile-stop', file });
        say(`scheduler (${label}): CPU profile of the restart (restore, replay, catch-up) in ${file}`);
      }
      const snapshot = await scheduler.ask<SchedulerSnapshotWritten>({ kind: 'snapshot-written' });
      if (snapshot.written) {
        say(
          `scheduler (${label}): snapshot of ${snapshot.written.events} events written, ${(snapshot.written.bytes / 1_048_576).toFixed(1)} MiB in ` +
            `${snapshot.written.chunks} chunks, ${snapshot.written.ms} ms to compress and store`,
        );
      }
      return { overdue: overdue.length, recoveryMs, rebuild, consumingLiveMs: restarted.startedAt - restartAt, snapshotWritten: snapshot.written ?? null };
    };
    const outage = grants.ranges.outage;
    const middle = outage.from + Math.ceil((outage.to - outage.from) / 2);
    const fullReplay = await restartAfterOutage('full-replay', outage.from, middle);
    if (fullReplay.snapshotWritten === null) say('scheduler (full-replay): WARNING no snapshot was written: the next restart replays the whole log too');
    const fromSnapshot = await restartAfterOutage('from-snapshot', middle, outage.to);
    const recoveryMs = fullReplay.recoveryMs;
    await pause(3_000);
    await firings.poll();
    const endCutoff = Date.now() - 5_000;

    // what the log says
    let missed = 0;
    let early = 0;
    let fired = 0;
    for (let i = 0; i < grants.size; i += 1) {
      const due = grants.expiresAt[i] as number;
      const count = firings.count[i] as number;
      if (count > 0) fired += 1;
      if (due <= endCutoff && count === 0) missed += 1;
      if (count > 0 && ((firings.emittedAt[i] as number) < due || (firings.firedAt[i] as number) < due)) early += 1;
    }
    const inRun = (i: number): boolean => {
      const due = grants.expiresAt[i] as number;
      return due >= (armedAt[i] as number) && due < killAt;
    };
    const steady = latenessOf(range(grants.ranges.uniform.from, grants.ranges.uniform.to, inRun), firings.emittedAt, grants);
    const spikeLateness = latenessOf(range(spike.from, spike.to), firings.emittedAt, grants);
    const all = latenessOf([...range(grants.ranges.uniform.from, grants.ranges.uniform.to, inRun), ...range(spike.from, spike.to)], firings.emittedAt, grants);
    const cleared = clearedMs(spike.from, spike.to, firings.emittedAt, spikeAt);
    const dueBeforePublished = [...range(0, grants.size, (i) => (grants.expiresAt[i] as number) < (armedAt[i] as number))].length;
    load.push(loadavg()[0] ?? 0);

    const goals = {
      p99: all.lateness.p99 <= GOALS.p99Ms,
      p999: all.lateness.p999 <= GOALS.p999Ms,
      spikeCleared: cleared <= GOALS.spikeClearedMs,
      missed: missed === 0,
      early: early === 0,
      duplicates: firings.duplicates === 0,
      bytesPerGrant: bytesPerGrant <= GOALS.bytesPerGrant,
      recovery: recoveryMs <= GOALS.recoveryMs,
      recoveryFromSnapshot: fromSnapshot.recoveryMs <= GOALS.recoveryMs,
    };
    const b = baseline as { steadyLatenessMs?: Latency; spikeLatenessMs?: Latency; spikeClearedMs?: number | null } | undefined;
    say('');
    say(`results (${active} active grants; grants due while the scheduler ran: ${steady.count} steady + ${spikeLateness.count} spike)`);
    say(`                                   scheduler                                  naive poll (same run)`);
    say(`lateness all due p50/p99/p99.9    ${fmt(all.lateness).padEnd(43)}  —`);
    say(`lateness steady  p50/p99/p99.9    ${fmt(steady.lateness).padEnd(43)}  ${b?.steadyLatenessMs ? fmt(b.steadyLatenessMs) : 'skipped'}`);
    say(`lateness spike   p50/p99/p99.9    ${fmt(spikeLateness.lateness).padEnd(43)}  ${b?.spikeLatenessMs ? fmt(b.spikeLatenessMs) : 'skipped'}`);
    say(`spike of ${cfg.counts.spike} cleared in          ${seconds(cleared).padEnd(43)}  ${b ? seconds(b.spikeClearedMs ?? Number.NaN) : 'skipped'}`);
    say(
      `missed / early / duplicate        ${missed} / ${early} / ${firings.duplicates} (firings ${firings.total}, dueAt mismatches ${firings.mismatched}, due before published ${dueBeforePublished})`,
    );
    say(`memory                            ${bytesPerGrant} B/grant heap, ${rssPerGrant} B/grant RSS`);
    say(
      `after kill -9, full replay        ${fullReplay.overdue} overdue all fired ${seconds(recoveryMs)} after restart (replay of ${fullReplay.rebuild?.events ?? '?'} events ${fullReplay.rebuild?.millis ?? '?'} ms)`,
    );
    const restored = fromSnapshot.rebuild?.snapshot;
    say(
      `after kill -9, from snapshot      ${fromSnapshot.overdue} overdue all fired ${seconds(fromSnapshot.recoveryMs)} after restart ` +
        (restored
          ? `(snapshot of ${restored.events} events restored in ${restored.restoreMs} ms + tail of ${fromSnapshot.rebuild?.events ?? '?'} events, ${fromSnapshot.rebuild?.millis ?? '?'} ms in all)`
          : `(NO SNAPSHOT USED: ${fromSnapshot.rebuild?.snapshotSkipped ?? 'snapshots off'}; replay of ${fromSnapshot.rebuild?.events ?? '?'} events ${fromSnapshot.rebuild?.millis ?? '?'} ms)`),
    );
    say(
      `goals: p99 ≤ 1 s ${met(goals.p99)}; p99.9 ≤ 2 s ${met(goals.p999)}; spike ≤ 10 s ${met(goals.spikeCleared)}; 0 missed ${met(goals.missed)}; 0 early ${met(goals.early)}; ` +
        `0 duplicate ${met(goals.duplicates)}; ≤ 150 B/grant ${met(goals.bytesPerGrant)}; overdue ≤ 30 s after restart: full replay ${met(goals.recovery)}, from snapshot ${met(goals.recoveryFromSnapshot)}`,
    );
    say(`load average at start / end: ${load.map((l) => l.toFixed(2)).join(' / ')} (2 cores, shared)`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'expiry',
        quick: cfg.quick,
        grants: { active, ...cfg.counts },
        partitions: cfg.partitions,
        scheduler: {
          publishedPerSec: Math.round((background * 2) / (publishMs / 1000)),
          foldedPerSec,
          latenessMs: { all: all.lateness, steady: steady.lateness, spike: spikeLateness.lateness },
          spikeClearedMs: Number.isNaN(cleared) ? null : cleared,
          spikeFoldedBeforeDue: foldedBeforeDue,
          missed,
          early,
          duplicates: firings.duplicates,
          fired,
          dueBeforePublished,
          heapBytesPerGrant: bytesPerGrant,
          bookColumnBytesPerGrant: Math.round(heapAfter.bookColumnBytes / background),
          rssBytesPerGrant: rssPerGrant,
          heapUsedBytes: heapAfter.heapUsed,
          restart: {
            overdue: fullReplay.overdue,
            recoveryMs: Number.isNaN(recoveryMs) ? null : recoveryMs,
            replayMs: fullReplay.rebuild?.millis ?? null,
            replayedEvents: fullReplay.rebuild?.events ?? null,
            consumingLiveMs: fullReplay.consumingLiveMs,
            snapshotWritten: fullReplay.snapshotWritten,
          },
          restartFromSnapshot: {
            overdue: fromSnapshot.overdue,
            recoveryMs: Number.isNaN(fromSnapshot.recoveryMs) ? null : fromSnapshot.recoveryMs,
            snapshotRestoreMs: restored?.restoreMs ?? null,
            snapshotEvents: restored?.events ?? null,
            tailEvents: restored ? (fromSnapshot.rebuild?.events ?? null) : null,
            replayMs: fromSnapshot.rebuild?.millis ?? null,
            snapshotSkipped: fromSnapshot.rebuild?.snapshotSkipped ?? null,
            consumingLiveMs: fromSnapshot.consumingLiveMs,
          },
        },
        baseline: baseline ?? null,
        goals,
        loadAverage: load.map((l) => round(l, 2)),
      })}\n`,
    );
    if (!goals.missed || !goals.early || !goals.duplicates) process.exitCode = 1;
  } finally {
    await scheduler?.kill('SIGKILL');
    if (!cfg.keepData) {
      await bus.deleteNamespace().catch(() => undefined);
      await dropDatabase(snapshotDatabase).catch(() => undefined);
    }
    await bus.disconnect();
    await globalTeardown();
  }
}
