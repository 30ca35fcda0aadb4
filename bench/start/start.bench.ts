/**
 * `npm run bench:start` (issue 12, item 5; ADR 0037): how long each stateful service takes to start on a log of a
 * million active grants, replaying the whole log (the same-run baseline) against restoring its newest snapshot and
 * replaying only the log after it.
 *
 * The bench publishes `iga.grant.created` + `iga.grant.activated` per grant as provisioning would (the facts every
 * stateful service that knows grants folds), then for each service in turn: starts it as `npm start` does (its own
 * process, Kafka with SASL and ACLs, FerretDB), times spawn → 200 on /health/ready (a full replay: nothing is
 * snapshotted yet), waits until it has written its snapshot, stops it; then publishes a tail of further grants and
 * starts it again, timed the same way. Starts are sequential: one service on the two cores at a time.
 *
 * BENCH_START_GRANTS (default 1,000,000), BENCH_START_TAIL_GRANTS (default 1 % of them), BENCH_START_SERVICES
 * (default provisioning,scheduler,policy,approval,notifier), BENCH_START_QUICK=1 (20,000 grants).
 */
import { TOPICS } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { KafkaMessageBus } from '@grantline/messaging';
import { globalSetup, globalTeardown } from '@grantline/testing';
import { GrantSet, grantFactsBuilder } from '../expiry/grant-set';
import { BenchPlatform } from '../lifecycle/platform';
import type { LogRecord, ServiceName } from '../lifecycle/platform';

const STATEFUL: readonly ServiceName[] = ['provisioning', 'scheduler', 'policy', 'approval', 'notifier'];
// A batch of a partition must stay under the broker's 1 MB message limit (as bench:expiry publishes them).
const PUBLISH_CHUNK = 2_000;
/** Snapshot writes of a million grants into FerretDB take a while; a start is bounded by the platform's own timeout. */
const SNAPSHOT_TIMEOUT_MS = 600_000;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function settings() {
  const quick = process.env['BENCH_START_QUICK'] === '1';
  const grants = Number(process.env['BENCH_START_GRANTS'] ?? (quick ? 20_000 : 1_000_000));
  const tail = Number(process.env['BENCH_START_TAIL_GRANTS'] ?? Math.max(1, Math.round(grants / 100)));
  const services = (process.env['BENCH_START_SERVICES'] ?? STATEFUL.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean) as ServiceName[];
  for (const name of services) if (!STATEFUL.includes(name)) throw new Error(`BENCH_START_SERVICES: ${name} is not one of ${STATEFUL.join(', ')}`);
  // Fewer grants than this would write no snapshot, and the second start would measure nothing new.
  const minEvents = Math.min(100_000, grants);
  return { quick, grants, tail, services, minEvents };
}

/** One replayed state of the service, from its "<state> rebuilt" record. */
interface StateStart {
  readonly state: string;
  readonly events: number;
  readonly ms: number;
  readonly snapshot?: { readonly id: string; readonly events: number; readonly restoreMs: number };
  readonly snapshotSkipped?: string;
}

interface StartResult {
  readonly readyMs: number;
  readonly states: readonly StateStart[];
  /** From the state's "rebuilt" record(s): events the replay folded, and its ms. */
  readonly replayedEvents: number;
  readonly replayMs: number;
  readonly snapshot?: { readonly id: string; readonly events: number; readonly restoreMs: number };
  readonly snapshotSkipped?: string;
}

interface ServiceResult {
  readonly service: ServiceName;
  readonly fullReplay: StartResult;
  readonly snapshotWrite: { readonly bytes: number; readonly chunks: number; readonly ms: number; readonly events: number } | null;
  readonly fromSnapshot: StartResult;
  readonly speedup: number;
}

async function publishGrants(bus: KafkaMessageBus, set: GrantSet, from: number, to: number): Promise<number> {
  const facts = grantFactsBuilder();
  const started = Date.now();
  for (let i = from; i < to; i += PUBLISH_CHUNK / 2) {
    const end = Math.min(to, i + PUBLISH_CHUNK / 2);
    const events: Envelope[] = [];
    for (let j = i; j < end; j += 1) events.push(...facts(set, j));
    await bus.publisher.publish(TOPICS.grants, events);
  }
  return Date.now() - started;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Starts a service and reads what its state holders logged about the start. */
async function timedStart(
  platform: BenchPlatform,
  name: ServiceName,
  minEvents: number,
  watch: (record: LogRecord) => void = () => undefined,
): Promise<StartResult> {
  const rebuilt: LogRecord[] = [];
  const readyMs = await platform.start(
    name,
    (record) => {
      if (typeof record.msg === 'string' && record.msg.endsWith(' rebuilt')) rebuilt.push(record);
      watch(record);
    },
    { STATE_SNAPSHOT_MIN_EVENTS: String(minEvents) },
  );
  const withSnapshot = rebuilt.find((record) => record['snapshot'] !== undefined);
  const skipped = rebuilt.find((record) => typeof record['snapshotSkipped'] === 'string');
  const states = rebuilt.map((record) => ({
    state: String(record.msg).slice(0, -' rebuilt'.length),
    events: num(record['events']),
    ms: num(record['ms']),
    ...(record['snapshot'] !== undefined ? { snapshot: record['snapshot'] as StateStart['snapshot'] & object } : {}),
    ...(typeof record['snapshotSkipped'] === 'string' ? { snapshotSkipped: record['snapshotSkipped'] } : {}),
  }));
  return {
    readyMs,
    states,
    replayedEvents: rebuilt.reduce((sum, record) => sum + num(record['events']), 0),
    replayMs: rebuilt.reduce((max, record) => Math.max(max, num(record['ms'])), 0),
    ...(withSnapshot ? { snapshot: withSnapshot['snapshot'] as StartResult['snapshot'] & object } : {}),
    ...(skipped ? { snapshotSkipped: String(skipped['snapshotSkipped']) } : {}),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export async function runStartBench(): Promise<void> {
  const cfg = settings();
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step.run().catch((error: unknown) => say(`teardown: ${step.name} failed: ${String(error)}`));
  };
  const results: ServiceResult[] = [];
  let published = { events: 0, ms: 0, tailEvents: 0 };
  try {
    await globalSetup();
    cleanups.push({ name: 'infrastructure', run: () => globalTeardown() });
    const platform = await BenchPlatform.create();
    cleanups.push({ name: 'platform data', run: () => platform.deleteData() });
    cleanups.push({ name: 'services', run: () => platform.stop() });

    // The first service provisions the namespace's logins and ACLs; it is stopped again before the log is loaded.
    await platform.launch(say, ['notifier']);
    await platform.stopService('notifier');

    const set = new GrantSet(platform.runId, { uniform: cfg.grants + cfg.tail, long: 0, spike: 0, outage: 0 });
    set.placeBackground(Date.now() + 86_400_000);
    const bus = platform.bus('publisher');
    cleanups.push({ name: 'publisher', run: () => bus.disconnect() });
    await bus.connect();
    await bus.ensureTopics([{ topic: TOPICS.grants }]);
    const ms = await publishGrants(bus, set, 0, cfg.grants);
    published = { events: cfg.grants * 2, ms, tailEvents: cfg.tail * 2 };
    say(`log: ${cfg.grants.toLocaleString('en')} active grants (${published.events.toLocaleString('en')} events) published in ${seconds(ms)}`);

    for (const service of cfg.services) {
      say(`${service}: first start, no snapshot yet (full replay)`);
      let snapshotWritten: (record: LogRecord) => void = () => undefined;
      const written = new Promise<LogRecord>((resolve, reject) => {
        snapshotWritten = resolve;
        setTimeout(() => reject(new Error(`none within ${SNAPSHOT_TIMEOUT_MS} ms of the start`)), SNAPSHOT_TIMEOUT_MS).unref();
      });
      written.catch(() => undefined);
      const fullReplay = await timedStart(platform, service, cfg.minEvents, (record) => {
        if (typeof record.msg === 'string' && record.msg.endsWith(' snapshot written')) snapshotWritten(record);
      });
      say(
        `${service}: ready in ${seconds(fullReplay.readyMs)} (replayed ${fullReplay.replayedEvents.toLocaleString('en')} events in ${seconds(fullReplay.replayMs)})`,
      );
      let snapshotWrite: ServiceResult['snapshotWrite'] = null;
      try {
        const record = await written;
        snapshotWrite = { bytes: num(record['bytes']), chunks: num(record['chunks']), ms: num(record['ms']), events: num(record['events']) };
        say(`${service}: snapshot written: ${(snapshotWrite.bytes / 1e6).toFixed(1)} MB in ${snapshotWrite.chunks} chunks, ${seconds(snapshotWrite.ms)}`);
      } catch (error) {
        say(`${service}: WARNING no snapshot written: ${String(error)}`);
      }
      await platform.stopService(service);
      results.push({ service, fullReplay, snapshotWrite, fromSnapshot: fullReplay, speedup: 1 });
    }

    await publishGrants(bus, set, cfg.grants, cfg.grants + cfg.tail);
    say(`log: a tail of ${cfg.tail.toLocaleString('en')} more grants (${published.tailEvents.toLocaleString('en')} events) published`);

    for (const [i, result] of results.entries()) {
      say(`${result.service}: second start (snapshot + tail)`);
      const fromSnapshot = await timedStart(platform, result.service, cfg.minEvents);
      say(
        `${result.service}: ready in ${seconds(fromSnapshot.readyMs)} (${fromSnapshot.snapshot ? `snapshot of ${fromSnapshot.snapshot.events.toLocaleString('en')} events restored in ${seconds(fromSnapshot.snapshot.restoreMs)}` : `no snapshot: ${fromSnapshot.snapshotSkipped ?? '?'}`}, then ${fromSnapshot.replayedEvents.toLocaleString('en')} events replayed)`,
      );
      await platform.stopService(result.service);
      results[i] = { ...result, fromSnapshot, speedup: Math.round((result.fullReplay.readyMs / Math.max(1, fromSnapshot.readyMs)) * 10) / 10 };
    }

    say('');
    say(
      `start on a log of ${cfg.grants.toLocaleString('en')} active grants (+ ${cfg.tail.toLocaleString('en')} after the snapshot); spawn → /health/ready 200`,
    );
    say('service        full replay (baseline)   snapshot + tail     snapshot size   ×');
    for (const r of results) {
      say(
        `${r.service.padEnd(14)} ${seconds(r.fullReplay.readyMs).padStart(8)} (${String(r.fullReplay.replayedEvents).padStart(8)} ev)   ${seconds(r.fromSnapshot.readyMs).padStart(8)} (${String(r.fromSnapshot.replayedEvents).padStart(6)} ev)   ${r.snapshotWrite ? `${(r.snapshotWrite.bytes / 1e6).toFixed(1)} MB`.padStart(10) : '      none'}   ${r.speedup}`,
      );
    }
    say(
      JSON.stringify({
        bench: 'start',
        config: { grants: cfg.grants, tailGrants: cfg.tail, quick: cfg.quick, services: cfg.services, minEvents: cfg.minEvents },
        log: { events: published.events, publishMs: published.ms, tailEvents: published.tailEvents },
        services: Object.fromEntries(
          results.map((r) => [r.service, { fullReplay: r.fullReplay, snapshotWrite: r.snapshotWrite, fromSnapshot: r.fromSnapshot, speedup: r.speedup }]),
        ),
        goalMs: 30_000,
        notes: [
          'baseline = the same service started on the same log with no snapshot (full replay), in the same run',
          'starts are sequential, one service at a time; each is stopped gracefully so the next start needs no lease takeover',
        ],
      }),
    );
  } finally {
    await cleanUp();
  }
}
