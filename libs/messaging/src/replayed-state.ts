import type { Envelope } from '@grantline/contracts';
import type { MessagingLogger } from './logger';
import { StateLoader } from './state-loader';
import type { ClosableState, StateLoadBackoff } from './state-loader';
import type { MessageBus } from './ports';

/** Where an event sits in the log. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ReplayedStateOptions {
  readonly bus: Pick<MessageBus, 'replay' | 'ensureTopics'>;
  /** The topics the state is folded from (logical names). */
  readonly topics: () => readonly string[];
  /** Folds one event into the state. */
  readonly apply: (event: Envelope, position: LogPosition) => void;
  readonly logger: Pick<MessagingLogger, 'info' | 'warn'>;
  /** Names the state in log lines ("provisioning state rebuilt"), in readiness and in 503 problems. */
  readonly name: string;
  /** Extra fields for the "rebuilt" log line (sizes). */
  readonly describe?: () => Record<string, unknown>;
  /**
   * Create the topics when missing before replaying (default true). A topic whose writer never started cannot be
   * replayed, but it holds nothing: creating it turns "no such topic" into the empty history it is, so every
   * failure that remains is a real one.
   */
  readonly ensureTopics?: boolean;
  readonly backoff?: StateLoadBackoff;
}

export interface ReplayReport {
  /** Events folded by the replay, over every attempt. */
  readonly events: number;
  /** Duration of the successful attempt. */
  readonly ms: number;
  readonly attempts: number;
}

/**
 * In-memory state a service rebuilds at every start by replaying its topics from the beginning, then keeps up to
 * date from its live consumer. A failed replay is retried (StateLoader) and the state stays not ready meanwhile:
 * never a start with part of the history missing. An attempt that failed part-way is resumed, not folded twice:
 * events at or below the offsets already folded are skipped. The live consumer may start before (or while) the
 * replay runs; an event the replay already folded (same topic/partition, offset not beyond the replay's) is not
 * folded twice.
 */
export class ReplayedState implements ClosableState {
  /** Highest offset the replay folded per topic/partition. */
  private readonly replayed = new Map<string, bigint>();
  private folded = 0;
  private readonly loader: StateLoader<ReplayReport>;

  constructor(private readonly options: ReplayedStateOptions) {
    this.loader = new StateLoader({
      name: options.name,
      load: (attempt) => this.replayOnce(attempt),
      logger: options.logger,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
  }

  get name(): string {
    return this.loader.name;
  }

  isReady(): boolean {
    return this.loader.isReady();
  }

  get lastError(): string | undefined {
    return this.loader.lastError;
  }

  get attempts(): number {
    return this.loader.attempts;
  }

  /** The successful replay; undefined until then. */
  get report(): ReplayReport | undefined {
    return this.loader.current;
  }

  start(): void {
    this.loader.start();
  }

  /** Starts the replay once; every caller waits for the same one, until it succeeds (see StateLoader). */
  whenLoaded(): Promise<ReplayReport> {
    return this.loader.whenLoaded();
  }

  whenAttempted(): Promise<void> {
    return this.loader.whenAttempted();
  }

  close(): Promise<void> {
    return this.loader.close();
  }

  /** Folds a live event unless the start-up replay already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    const seen = this.replayed.get(`${position.topic}/${position.partition}`);
    if (seen !== undefined && BigInt(position.offset) <= seen) return;
    this.options.apply(event, position);
  }

  private async replayOnce(attempt: number): Promise<ReplayReport> {
    const { bus, logger, name } = this.options;
    const started = Date.now();
    const topics = [...new Set(this.options.topics())];
    if (this.options.ensureTopics !== false) await bus.ensureTopics(topics.map((topic) => ({ topic })));
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      logger.warn(`skipping an undecodable record while rebuilding ${name}`, { ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => {
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      const seen = this.replayed.get(key);
      // Folded by an earlier attempt that failed further on.
      if (seen !== undefined && offset <= seen) return;
      this.options.apply(event, position);
      this.replayed.set(key, offset);
      this.folded += 1;
    };
    await bus.replay({ topics, handler, onInvalid });
    const report: ReplayReport = { events: this.folded, ms: Date.now() - started, attempts: attempt };
    logger.info(`${name} rebuilt`, { ...report, ...this.options.describe?.() });
    return report;
  }
}
