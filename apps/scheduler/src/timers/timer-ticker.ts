import type { EventRegistry } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import type { EventPublisher, MessagingLogger } from '@grantline/messaging';
import { makeSchedulerDecider } from '../domain/scheduler.decider';
import type { SchedulerDecider } from '../domain/scheduler.decider';
import type { TimerBook } from '../domain/timer-book';

export interface TimerTickerOptions {
  readonly clock: Clock;
  readonly book: TimerBook;
  readonly publisher: EventPublisher;
  readonly registry: EventRegistry;
  /** Where firings go: the schedule topic (the scheduler is its single writer). */
  readonly topic: string;
  /** At most 1000: a timer fires within about one interval of its due time. */
  readonly intervalMs?: number;
  /** Timers fired per tick at most; a larger backlog drains over consecutive ticks. */
  readonly batchSize?: number;
  readonly logger?: MessagingLogger;
}

export const DEFAULT_TICK_INTERVAL_MS = 500;
export const DEFAULT_TICK_BATCH_SIZE = 500;

/**
 * Polls the clock instead of arming one `setTimeout` per timer: no delay limit (Node caps `setTimeout` at
 * 2^31-1 ms, about 24.8 days), nothing to re-arm after a restart, and a test clock that jumps a month is
 * honoured on the next tick. A firing counts as fired only after the broker acknowledged it (acks=all); if the
 * publish fails the timers stay pending and the next tick sends them again under the same deterministic ids.
 */
export class TimerTicker {
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly decider: SchedulerDecider;
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private catchingUp = false;
  private stopping = false;
  private firedTotal = 0;

  constructor(private readonly options: TimerTickerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_TICK_INTERVAL_MS;
    this.batchSize = options.batchSize ?? DEFAULT_TICK_BATCH_SIZE;
    if (!(this.intervalMs > 0 && this.intervalMs <= 1000)) throw new RangeError(`tick interval must be in (0, 1000] ms, got ${this.intervalMs}`);
    if (!(Number.isInteger(this.batchSize) && this.batchSize > 0)) throw new RangeError(`tick batch size must be a positive integer, got ${this.batchSize}`);
    this.decider = makeSchedulerDecider({ registry: options.registry, eventId: deterministicEventId });
  }

  get fired(): number {
    return this.firedTotal;
  }

  get started(): boolean {
    return this.interval !== undefined;
  }

  /** One bounded tick; ticks never overlap (a call during a tick waits for it, then runs its own). */
  async tick(): Promise<number> {
    const previous = this.running ?? Promise.resolve(0);
    const next = previous.then(
      () => this.fireDue(),
      () => this.fireDue(),
    );
    this.running = next;
    try {
      return await next;
    } finally {
      if (this.running === next) this.running = undefined;
    }
  }

  /** Ticks until nothing is due at the current time; for the test-clock endpoint and shutdown-free tests. */
  async drain(maxTicks = 10_000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxTicks; i += 1) {
      if (i > 0 && this.stopping) return total;
      const fired = await this.tick();
      total += fired;
      if (fired < this.batchSize) return total;
    }
    return total;
  }

  /**
   * Every interval, ticks until nothing more is due: a burst larger than one batch (100,000 grants expiring in the
   * same second) goes out batch after batch at once, not one batch per interval. An interval that finds the previous
   * catch-up still running leaves it to finish.
   */
  start(): void {
    if (this.interval) return;
    this.stopping = false;
    this.interval = setInterval(() => {
      if (this.catchingUp) return;
      this.catchingUp = true;
      this.drain()
        .catch((error: unknown) => {
          this.options.logger?.error('scheduler tick failed; due timers stay pending and are retried', { error: String(error) });
        })
        .finally(() => {
          this.catchingUp = false;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    await this.running?.catch(() => undefined);
  }

  private async fireDue(): Promise<number> {
    const { book, clock, publisher, topic } = this.options;
    const firings = this.decider.decide({ now: clock.now(), limit: this.batchSize }, book);
    if (firings.length === 0) return 0;
    await publisher.publish(topic, firings);
    for (const firing of firings) book.apply(firing);
    this.firedTotal += firings.length;
    return firings.length;
  }
}
