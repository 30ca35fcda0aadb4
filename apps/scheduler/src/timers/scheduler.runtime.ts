import { TimerFired } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { isAdjustable } from '@grantline/decider';
import type { Clock } from '@grantline/decider';
import { ReplayedState, silentLogger } from '@grantline/messaging';
import type { ClosableState, MessageBus, MessagingLogger, RunningConsumer, StateLoadBackoff } from '@grantline/messaging';
import { SCHEDULER_INPUT_TYPES } from '../domain/scheduler.evolve';
import { TimerBook } from '../domain/timer-book';
import { TimerTicker } from './timer-ticker';

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
}

export interface RebuildReport {
  readonly events: number;
  readonly millis: number;
  readonly pending: number;
  readonly fired: number;
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
  private readonly rebuild: ReplayedState;
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
    this.rebuild = new ReplayedState({
      bus: options.bus,
      // The schedule topic too: what fired is read back, so nothing fires twice.
      topics: () => [...new Set([...this.inputTopics, this.scheduleTopic])],
      apply: (event) => this.ingest(event),
      logger: this.logger,
      name: 'scheduler timers',
      describe: () => ({ pending: this.book.pendingCount, fired: this.book.firedCount }),
      ensureTopics: options.ensureTopics !== false,
      ...(options.rebuildBackoff ? { backoff: options.rebuildBackoff } : {}),
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

  /** Every live event goes through here; safe to call during replay and for events already replayed. */
  ingest(event: Envelope): void {
    this.book.apply(event);
  }

  /**
   * Replays the input topics and the schedule topic from the beginning (what fired is read back, so nothing fires
   * twice), retrying until a replay succeeds, then starts ticking. Live events may arrive meanwhile: applying is
   * idempotent and order-tolerant. Rejects with StateNotLoadedError only when stopped before it rebuilt.
   */
  async start(): Promise<RebuildReport> {
    const replayed = await this.rebuild.whenLoaded();
    this.rebuilt = {
      events: replayed.events,
      millis: replayed.ms,
      pending: this.book.pendingCount,
      fired: this.book.firedCount,
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
