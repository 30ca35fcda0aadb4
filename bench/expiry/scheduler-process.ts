/**
 * The scheduler under `npm run bench:expiry`, in a process of its own so the bench can `kill -9` it: the service's
 * runtime (SchedulerRuntime: rebuild by replay, then the ticker) with the service's defaults (timersConfigFromEnv,
 * the system clock), fed live the way TimerEventsController feeds it (wait for the rebuild, then ingest), on the run's
 * Kafka namespace. Started with --expose-gc; answers the bench over IPC with its counts and its heap after a forced GC.
 * With BENCH_EXPIRY_SNAPSHOT_DB, the book is snapshotted as the service does it (ADR 0037): MongoSnapshotStore in that
 * database of MONGO_URL, a snapshot written after a start-up replay of at least BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS
 * events (default 100,000), no compaction while it runs (it would share the cores with what the bench measures).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createConnection } from 'mongoose';
import { registry } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessagingLogger, SnapshotStore } from '@grantline/messaging';
import { MongoSnapshotStore } from '@grantline/service-kit';
import { mongoDatabaseUrl } from '@grantline/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- an app exports nothing: the bench runs the scheduler's own runtime
import { SystemClock } from '../../apps/scheduler/src/clock/system.clock';
// eslint-disable-next-line @nx/enforce-module-boundaries -- as above
import { SchedulerRuntime } from '../../apps/scheduler/src/timers/scheduler.runtime';
// eslint-disable-next-line @nx/enforce-module-boundaries -- as above
import type { RebuildReport } from '../../apps/scheduler/src/timers/scheduler.runtime';
// eslint-disable-next-line @nx/enforce-module-boundaries -- as above
import { timersConfigFromEnv } from '../../apps/scheduler/src/timers/timers.config';

export type SchedulerQuery =
  | { readonly kind: 'status' }
  | { readonly kind: 'heap' }
  | { readonly kind: 'snapshot-written' }
  | { readonly kind: 'profile-start' }
  | { readonly kind: 'profile-stop'; readonly file: string };

export interface SchedulerStatus {
  readonly kind: 'status';
  readonly pending: number;
  readonly fired: number;
  /** Input events folded (applied ids minus firings): grant facts here. */
  readonly folded: number;
  readonly ready: boolean;
  readonly rebuild?: {
    readonly events: number;
    readonly millis: number;
    /** The snapshot the book was restored from (then `events` is the log after it), if any. */
    readonly snapshot?: { readonly id: string; readonly events: number; readonly restoreMs: number };
    readonly snapshotSkipped?: string;
  };
  readonly rss: number;
  readonly heapUsed: number;
}

/** Once the snapshot written after the start-up replay is stored (or given up): what the store holds now. */
export interface SchedulerSnapshotWritten {
  readonly kind: 'snapshot-written';
  /** From the runtime's "snapshot written" line: compressing and storing it (the encoding is before, in the replay). */
  readonly written?: { readonly snapshotId: string; readonly events: number; readonly bytes: number; readonly chunks: number; readonly ms: number };
  readonly failed?: string;
}

export interface SchedulerHeap {
  readonly kind: 'heap';
  /** V8 heap plus ArrayBuffer memory (the book's typed columns live there), after a forced GC. */
  readonly heapUsed: number;
  readonly bookColumnBytes: number;
  readonly rss: number;
  readonly pending: number;
}

async function main(): Promise<void> {
  const namespace = process.env['BENCH_EXPIRY_NAMESPACE'];
  if (!namespace) throw new Error('BENCH_EXPIRY_NAMESPACE is required');
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  const timers = timersConfigFromEnv(process.env);
  const bus = new KafkaMessageBus({ clientId: `scheduler-${namespace}`, brokers, registry, logger: silentLogger, namespace });
  const snapshots = await snapshotStore();
  // The runtime's own lines about its snapshots, for the bench; everything else stays silent, as before.
  let written: SchedulerSnapshotWritten['written'];
  let failed: string | undefined;
  const logger: MessagingLogger = {
    ...silentLogger,
    info: (message, fields) => {
      if (message.endsWith(' snapshot written')) written = fields as SchedulerSnapshotWritten['written'];
    },
    warn: (message, fields) => {
      if (message.includes('snapshot')) {
        failed = `${message} ${JSON.stringify(fields)}`;
        process.stderr.write(`bench scheduler: ${failed}\n`);
      }
    },
  };
  const runtime = new SchedulerRuntime({
    bus,
    registry,
    clock: new SystemClock(),
    tickIntervalMs: timers.tickIntervalMs,
    tickBatchSize: timers.tickBatchSize,
    logger,
    ...(snapshots ? { snapshots: { store: snapshots.store, minEvents: snapshots.minEvents, compactEveryMs: 0 } } : {}),
  });
  const profiler = new Session();
  // The restart's replay and catch-up, profiled from the first moment (BENCH_EXPIRY_PROFILE_DIR).
  if (process.env['BENCH_EXPIRY_PROFILE_FROM_START'] === '1') await profileCommand(profiler, { kind: 'profile-start' });
  const started = runtime.start();
  // Topics the bench just created may not be in every broker's metadata yet: retried as a restarted service would be.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await bus.consume({
        groupId: 'scheduler',
        topics: [...new Set([...runtime.inputTopics, runtime.scheduleTopic])],
        fromBeginning: true,
        handler: async (event) => {
          await runtime.whenRebuilt();
          runtime.ingest(event);
        },
      });
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  await started;
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (query: SchedulerQuery) => {
    if (query.kind === 'profile-start' || query.kind === 'profile-stop') {
      void profileCommand(profiler, query).then(() => process.send?.({ kind: query.kind }));
      return;
    }
    if (query.kind === 'snapshot-written') {
      void runtime.snapshotWritten().then(() => {
        const answer: SchedulerSnapshotWritten = { kind: 'snapshot-written', ...(written ? { written } : {}), ...(failed !== undefined ? { failed } : {}) };
        process.send?.(answer);
      });
      return;
    }
    const view = runtime.book.view();
    const memory = process.memoryUsage();
    if (query.kind === 'heap') {
      gc?.();
      gc?.();
      const after = process.memoryUsage();
      const answer: SchedulerHeap = {
        kind: 'heap',
        heapUsed: after.heapUsed + after.arrayBuffers,
        bookColumnBytes: runtime.book.columnBytes,
        rss: after.rss,
        pending: runtime.book.pendingCount,
      };
      process.send?.(answer);
      return;
    }
    const answer: SchedulerStatus = {
      kind: 'status',
      pending: runtime.book.pendingCount,
      fired: runtime.book.firedCount,
      folded: view.applied.size - view.fired.size,
      ready: runtime.ready,
      ...(runtime.lastRebuild ? { rebuild: rebuildOf(runtime.lastRebuild) } : {}),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
    };
    process.send?.(answer);
  });
  process.send?.({ kind: 'started' });
}

/** The snapshot store of BENCH_EXPIRY_SNAPSHOT_DB, on a connection of this process (it dies with it: kill -9). */
async function snapshotStore(): Promise<{ store: SnapshotStore; minEvents: number } | undefined> {
  const database = process.env['BENCH_EXPIRY_SNAPSHOT_DB'];
  if (database === undefined || database === '') return undefined;
  const minEvents = Number(process.env['BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS'] ?? 100_000);
  if (!Number.isInteger(minEvents) || minEvents < 1)
    throw new Error(`BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS=${process.env['BENCH_EXPIRY_SNAPSHOT_MIN_EVENTS']} is not a positive whole number`);
  const connection = await createConnection(mongoDatabaseUrl(database)).asPromise();
  return { store: new MongoSnapshotStore(connection), minEvents };
}

function rebuildOf(report: RebuildReport): NonNullable<SchedulerStatus['rebuild']> {
  return {
    events: report.events,
    millis: report.millis,
    ...(report.snapshot ? { snapshot: report.snapshot } : {}),
    ...(report.snapshotSkipped !== undefined ? { snapshotSkipped: report.snapshotSkipped } : {}),
  };
}

/** A CPU profile of a phase (BENCH_EXPIRY_PROFILE_DIR): the same as node --cpu-prof, for a process that is killed with -9. */
async function profileCommand(profiler: Session, query: SchedulerQuery): Promise<void> {
  if (query.kind === 'profile-start') {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  } else if (query.kind === 'profile-stop') {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(query.file, JSON.stringify(profile));
    profiler.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench scheduler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
