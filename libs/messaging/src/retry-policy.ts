import { backoffDelayMs } from './backoff';
import type { RetryPolicy } from './ports';

/** Returned instead of a result when the retrying was stopped before the work succeeded. */
export const INTERRUPTED = Symbol('interrupted');
export type Interrupted = typeof INTERRUPTED;

/** Waits `ms`, or less when `signal` aborts first (a stopping consumer must not sit out a 30 s backoff). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryForeverOptions {
  readonly policy: RetryPolicy;
  /** Aborted when the consumer stops or loses the partition: retrying ends without a result. */
  readonly signal: AbortSignal;
  /** Told of every failure before the wait, with the attempt that failed and the wait that follows. */
  readonly onFailure: (error: unknown, attempt: number, delayMs: number) => void;
  /** Injected by unit specs; waits for real otherwise. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Runs `work` until it succeeds, with exponential backoff and jitter capped at `policy.maxDelayMs`, for as long as
 * it takes: a handler's failure never becomes a skipped event. `policy.maxAttempts` is deliberately not consulted.
 */
export async function retryForever<T>(work: (attempt: number) => Promise<T>, options: RetryForeverOptions): Promise<T | Interrupted> {
  const wait = options.wait ?? pause;
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal.aborted) return INTERRUPTED;
    try {
      return await work(attempt);
    } catch (error) {
      if (options.signal.aborted) return INTERRUPTED;
      const delayMs = backoffDelayMs(options.policy, attempt, options.random);
      options.onFailure(error, attempt, delayMs);
      await wait(delayMs, options.signal);
    }
  }
}
