import { backoffDelayMs } from './backoff';
import { RetriableError, describeError } from './errors';
import type { MessagingLogger } from './logger';

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
