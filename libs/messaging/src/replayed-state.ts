import type { Envelope } from '@grantline/contracts';
import { backoffDelayMs } from './backoff';
import { RetriableError, describeError } from './errors';
import type { MessagingLogger } from './logger';
import type { MessageBus } from './ports';

/** Where an event sits in the log. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * A state a service must hold before it may work (rebuilt by replay, projected read models), as readiness probes
 * and HTTP guards see it.
 */
export interface StateReadiness {
  /** Names the state ("provisioning state") in logs, in `/health/ready` and in 503 problems. */
  readonly name: string;
  isReady(): boolean;
  /** Why the last attempt to load it failed; undefined before a failure and once loaded. */
  readonly lastError: string | undefined;
}

/** A state whose loading can be given up when the service stops; whoever waits for it is then released. */
export interface ClosableState extends StateReadiness {
  /** Releases the waiters at once; resolves once no attempt to load runs any more (it may use the bus). */
  close(): Promise<void>;
}

/**
 * Thrown to whoever waits for a state that was closed before it loaded (the service is stopping). Retriable: the
 * event a handler was holding is not processed and its offset is not committed, so the next owner redoes it.
 */
export class StateNotLoadedError extends RetriableError {}

/** Delay between two attempts to load a state: doubling from `initialDelayMs`, capped at `maxDelayMs`. */
export interface StateLoadBackoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Short first retries heal a blip at once; the cap keeps a long outage from hammering the brokers. */
export const DEFAULT_STATE_LOAD_BACKOFF: StateLoadBackoff = { initialDelayMs: 500, maxDelayMs: 30_000 };

export interface StateLoaderOptions<T> {
  readonly name: string;
  /** One attempt. It is called again after a failure, so it must be safe to repeat. */
  readonly load: (attempt: number) => Promise<T>;
  readonly logger: Pick<MessagingLogger, 'info' | 'warn'>;
  readonly backoff?: StateLoadBackoff;
}

type Phase = 'idle' | 'loading' | 'loaded' | 'closed';

/**
 * Loads a state by retrying until it succeeds or the service stops (fail closed): until then the state is not
 * ready and `whenLoaded()` does not resolve, so nothing works from an empty or partial state. An infrastructure
 * blip heals by itself through the retries, and `lastError` says what is wrong meanwhile.
 */
export class StateLoader<T> implements ClosableState {
  private phase: Phase = 'idle';
  private value: T | undefined;
  private error: string | undefined;
  private attemptsMade = 0;
  private cancelPause: (() => void) | undefined;
  /** The attempt running now, if any. */
  private attempt: Promise<unknown> | undefined;
  private readonly loaded: Promise<T>;
  private resolveLoaded!: (value: T) => void;
  private rejectLoaded!: (error: StateNotLoadedError) => void;
  private readonly attempted: Promise<void>;
  private resolveAttempted!: () => void;

  constructor(private readonly options: StateLoaderOptions<T>) {
    this.loaded = new Promise<T>((resolve, reject) => {
      this.resolveLoaded = resolve;
      this.rejectLoaded = reject;
    });
    // Closing rejects it for whoever waits; when nobody does, that is not an unhandled rejection.
    this.loaded.catch(() => undefined);
    this.attempted = new Promise<void>((resolve) => (this.resolveAttempted = resolve));
  }

  get name(): string {
    return this.options.name;
  }

  isReady(): boolean {
    return this.phase === 'loaded';
  }

  get lastError(): string | undefined {
    return this.phase === 'loaded' ? undefined : this.error;
  }

  /** Attempts started so far. */
  get attempts(): number {
    return this.attemptsMade;
  }

  /** What the successful attempt returned; undefined until then. */
  get current(): T | undefined {
    return this.value;
  }

  /** Starts loading unless it has started (or was closed). */
  start(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'loading';
    void this.run();
  }

  /**
   * Starts loading if needed. Resolves once loaded, however many attempts that takes; rejects with
   * StateNotLoadedError only if the loader is closed first.
   */
  whenLoaded(): Promise<T> {
    this.start();
    return this.loaded;
  }

  /** Resolves once the first attempt has ended, whatever its outcome (or the loader was closed). */
  whenAttempted(): Promise<void> {
    this.start();
    return this.attempted;
  }

  /**
   * The service stops: no more attempts, and whoever waits is released with StateNotLoadedError, at once. Resolves
   * once an attempt still running has ended, so the bus it uses is not disconnected under it.
   */
  async close(): Promise<void> {
    if (this.phase !== 'loaded' && this.phase !== 'closed') {
      this.phase = 'closed';
      const cause = this.error === undefined ? '' : ` (last error: ${this.error})`;
      this.rejectLoaded(new StateNotLoadedError(`${this.name} was not loaded: the service is stopping${cause}`));
      this.resolveAttempted();
      this.cancelPause?.();
    }
    await this.attempt?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const backoff = this.options.backoff ?? DEFAULT_STATE_LOAD_BACKOFF;
    for (let attempt = 1; this.phase === 'loading'; attempt += 1) {
      this.attemptsMade = attempt;
      try {
        const running = (async () => this.options.load(attempt))();
        this.attempt = running;
        const value = await running;
        // Closed while the attempt ran: whoever waited has been released already.
        if (this.phase !== 'loading') return;
        this.value = value;
        this.phase = 'loaded';
        this.error = undefined;
        if (attempt > 1) this.options.logger.info(`${this.name} loaded after ${attempt} attempts`, { attempts: attempt });
        this.resolveLoaded(value);
        this.resolveAttempted();
        return;
      } catch (error) {
        if (this.phase !== 'loading') return;
        this.error = describeError(error);
        // maxAttempts is not consulted: the loader never gives up while the service runs.
        const delayMs = backoffDelayMs({ maxAttempts: Number.POSITIVE_INFINITY, ...backoff }, attempt);
        this.options.logger.warn(`${this.name} not loaded; not ready, retrying`, { attempt, delayMs, error: this.error });
        this.resolveAttempted();
        await this.pause(delayMs);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.cancelPause = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // A retry alone must not keep a stopping process (or a finished spec) alive.
      timer.unref();
      this.cancelPause = done;
    });
  }
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

/**
 * Every state one service must hold before it works, registered by its holder. Readiness reports each one that is
 * not loaded with its last error, and a stopping service closes them all, so consumers waiting for a state that
 * will not load now are released instead of holding the stop. The service kit provides one per service.
 */
export class StateReadinessRegistry {
  private readonly states: ClosableState[] = [];

  register(state: ClosableState): void {
    if (!this.states.includes(state)) this.states.push(state);
  }

  all(): readonly StateReadiness[] {
    return [...this.states];
  }

  notReady(): StateReadiness[] {
    return this.states.filter((state) => !state.isReady());
  }

  /** Releases every waiter at once; resolves once no state is being loaded any more. */
  async closeAll(): Promise<void> {
    await Promise.all(this.states.map((state) => state.close()));
  }
}
