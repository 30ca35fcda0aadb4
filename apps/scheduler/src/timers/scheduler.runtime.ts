import { TimerFired } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { isAdjustable } from '@grantline/decider';
import type { Clock } from '@grantline/decider';
import { ReplayedState, silentLogger } from '@grantline/messaging';
import type {
  ClosableState,
  MessageBus,
  MessagingLogger,
  ReplayReport,
  RunningConsumer,
  SnapshotManifest,
  SnapshotStore,
  StateLoadBackoff,
} from '@grantline/messaging';
import { SCHEDULER_INPUT_TYPES } from '../domain/scheduler.evolve';
import { TimerBook } from '../domain/timer-book';
import { timerBookSnapshotCodec } from './timer-book.snapshot';
import { TimerTicker } from './timer-ticker';

/** Where the book's snapshots are kept and how often (ADR 0037); the service kit's STATE_SNAPSHOTS in the service. */
export interface SchedulerSnapshotOptions {
  readonly store: SnapshotStore;
  /** A snapshot is written once at least this many events lie beyond the newest one (ReplayedState's default when absent). */
  readonly minEvents?: number;
  /** How often the running scheduler checks whether one is due; 0: only right after the start-up replay. */
  readonly compactEveryMs?: number;
}

export interface SchedulerRuntimeOptions {
  readonly bus: MessageBus;
  /** Topic names come from here (not from constants), so a spec can run the scheduler on its own topics. */
  readonly registry: EventRegistry;
  readonly clock: Clock;
  readonly tickIntervalMs?: number;
  readonly tickBatchSize?: number;
  readonly logger?: MessagingLogger;
  /** Create missing input and schedule topics before replay (replay cannot read a topic that does not exist). */
  readonly ensureTopics?: boolean;
  /**
   * For a test clock (CLOCK=offset): after replay, move the clock forward to the latest firing in the log, so time
   * a test advanced before a restart is not lost with the process (the offset itself lives in memory only).
   */
  readonly resumeClockFromLog?: boolean;
  /** Between failed replays; the default suits the service (specs pass a short one). */
  readonly rebuildBackoff?: StateLoadBackoff;
  /** Start from the newest snapshot of the book and the log after it; without, every start replays the whole log. */
  readonly snapshots?: SchedulerSnapshotOptions;
}

export interface RebuildReport {
  readonly events: number;
  readonly millis: number;
  readonly pending: number;
  readonly fired: number;
  /** The snapshot the book was restored from (then `events` are the log after it), when one was usable. */
  readonly snapshot?: ReplayReport['snapshot'];
  /** Why no snapshot was used, when snapshots are on and none was. */
  readonly snapshotSkipped?: string;
}

/**
 * The scheduler without a framework: rebuild by replay, then tick. The NestJS layer and the integration specs both
 * drive this one class, so what the specs prove is what the service runs.
 *
 * The rebuild is the shared ReplayedState: a replay that fails is retried with capped backoff, and until one
 * succeeds the scheduler is not ready and does not tick (a timer fired from a partial book could fire twice, or
 * miss the one it should fire). It registers as the service's state "scheduler timers".
 */
export class SchedulerRuntime implements ClosableState {
  readonly book = new TimerBook();
  readonly ticker: TimerTicker;
  readonly scheduleTopic: string;
  readonly inputTopics: readonly string[];
  private readonly logger: MessagingLogger;
  private readonly rebuild: ReplayedState<TimerBook>;
  private rebuilt: RebuildReport | undefined;

  constructor(private readonly options: SchedulerRuntimeOptions) {
    this.logger = options.logger ?? silentLogger;
    this.scheduleTopic = options.registry.definitionOf(TimerFired.type).topic;
    this.inputTopics = [...new Set(SCHEDULER_INPUT_TYPES.map((type) => options.registry.definitionOf(type).topic))].sort();
    this.ticker = new TimerTicker({
      clock: options.clock,
      book: this.book,
      publisher: options.bus.publisher,
      registry: options.registry,
      topic: this.scheduleTopic,
      logger: this.logger,
      ...(options.tickIntervalMs !== undefined ? { intervalMs: options.tickIntervalMs } : {}),
      ...(options.tickBatchSize !== undefined ? { batchSize: options.tickBatchSize } : {}),
    });
    this.rebuild = new ReplayedState<TimerBook>({
      bus: options.bus,
      // The schedule topic too: what fired is read back, so nothing fires twice.
      topics: () => [...new Set([...this.inputTopics, this.scheduleTopic])],
      apply: (event) => this.ingest(event),
      logger: this.logger,
      name: 'scheduler timers',
      describe: () => ({ pending: this.book.pendingCount, fired: this.book.firedCount }),
      ensureTopics: options.ensureTopics !== false,
      ...(options.rebuildBackoff ? { backoff: options.rebuildBackoff } : {}),
      // The codec folds with TimerBook.apply, as `ingest` does: the compactor's book is the live one's.
      ...(options.snapshots ? { snapshots: { ...options.snapshots, codec: timerBookSnapshotCodec, live: this.book } } : {}),
    });
  }

  get name(): string {
    return this.rebuild.name;
  }

  get ready(): boolean {
    return this.rebuilt !== undefined && this.ticker.started;
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Why the last replay failed; undefined once rebuilt. */
  get lastError(): string | undefined {
    return this.rebuild.lastError;
  }

  /** Replays started so far. */
  get rebuildAttempts(): number {
    return this.rebuild.attempts;
  }

  /** Resolves once the first replay has ended, whatever its outcome (the Nest layer opens the port after it). */
  whenRebuildAttempted(): Promise<void> {
    return this.rebuild.whenAttempted();
  }

  /** Resolves once rebuilt (live events wait for it); rejects with StateNotLoadedError if stopped first. */
  async whenRebuilt(): Promise<void> {
    await this.rebuild.whenLoaded();
  }

  /** Stops retrying the rebuild and releases whoever waits for it (the service is stopping). */
  close(): Promise<void> {
    return this.rebuild.close();
  }

  get lastRebuild(): RebuildReport | undefined {
    return this.rebuilt;
  }

  /** Resolves once the snapshot written after the start-up replay is stored (or given up); specs and benchmarks wait on it. */
  snapshotWritten(): Promise<void> {
    return this.rebuild.snapshotWritten();
  }

  /** Writes a snapshot now if enough lies beyond the newest one (the compactor's step). */
  compactSnapshot(): Promise<SnapshotManifest | undefined> {
    return this.rebuild.compact();
  }

  /** Every event goes through here (the replay's and the live ones); safe for events already folded. */
  ingest(event: Envelope): void {
    this.book.apply(event);
  }

  /**
   * Replays the input topics and the schedule topic from the beginning (what fired is read back, so nothing fires
   * twice), or, with snapshots, restores the newest usable one and replays the log after it; retries until a replay
   * succeeds, then starts ticking. Live events may arrive meanwhile: applying is
   * idempotent and order-tolerant. Rejects with StateNotLoadedError only when stopped before it rebuilt.
   */
  async start(): Promise<RebuildReport> {
    const replayed = await this.rebuild.whenLoaded();
    this.rebuilt = {
      events: replayed.events,
      millis: replayed.ms,
      pending: this.book.pendingCount,
      fired: this.book.firedCount,
      ...(replayed.snapshot ? { snapshot: replayed.snapshot } : {}),
      ...(replayed.snapshotSkipped !== undefined ? { snapshotSkipped: replayed.snapshotSkipped } : {}),
    };
    const latestFiring = this.book.latestFiredAt();
    const clock = this.options.clock;
    if (this.options.resumeClockFromLog === true && latestFiring !== undefined && isAdjustable(clock)) {
      const behindMs = latestFiring.getTime() - clock.now().getTime();
      if (behindMs > 0) clock.advance(behindMs);
    }
    this.ticker.start();
    // Fire what fell due while the scheduler was down right away rather than one interval later.
    await this.ticker.drain().catch((error: unknown) => {
      this.logger.error('scheduler catch-up tick failed; the ticker retries', { error: String(error) });
    });
    return this.rebuilt;
  }

  /** Live consumption without NestJS (the service uses @EventPattern handlers instead). */
  async consumeLive(groupId: string): Promise<RunningConsumer> {
    return this.options.bus.consume({
      groupId,
      topics: [...new Set([...this.inputTopics, this.scheduleTopic])],
      fromBeginning: true,
      handler: async (event) => this.ingest(event),
    });
  }

  async stop(): Promise<void> {
    await this.close();
    await this.ticker.stop();
  }
}
