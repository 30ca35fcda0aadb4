import { TimerFired } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { silentLogger } from '@grantline/messaging';
import type { MessageBus, MessagingLogger, RunningConsumer } from '@grantline/messaging';
import { isAdjustable } from '../clock/clock.port';
import type { Clock } from '../clock/clock.port';
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
 */
export class SchedulerRuntime {
  readonly book = new TimerBook();
  readonly ticker: TimerTicker;
  readonly scheduleTopic: string;
  readonly inputTopics: readonly string[];
  private readonly logger: MessagingLogger;
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
  }

  get ready(): boolean {
    return this.rebuilt !== undefined && this.ticker.started;
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
   * twice), then starts ticking. Live events may arrive meanwhile: applying is idempotent and order-tolerant.
   */
  async start(): Promise<RebuildReport> {
    const started = performance.now();
    if (this.options.ensureTopics !== false) {
      await this.options.bus.ensureTopics(this.inputTopics.concat(this.scheduleTopic).map((topic) => ({ topic })));
    }
    const events = await this.options.bus.replay({
      topics: [...new Set([...this.inputTopics, this.scheduleTopic])],
      handler: async (event) => this.ingest(event),
      onInvalid: (error, origin) => this.logger.warn('scheduler replay skipped an undecodable record', { ...origin, error: String(error) }),
    });
    this.rebuilt = {
      events,
      millis: Math.round(performance.now() - started),
      pending: this.book.pendingCount,
      fired: this.book.firedCount,
    };
    this.logger.info('scheduler rebuilt from the log', { ...this.rebuilt });
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
    await this.ticker.stop();
  }
}
