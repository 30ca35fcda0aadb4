import { toConnectorError } from './connector-error';
import type { ConnectorError } from './connector-error';
import type { Sleeper } from './time.port';
import { realSleeper } from './time.port';

export interface RetryOptions {
  /** Total attempts including the first; 1 disables retrying. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleeper?: Sleeper;
  /** Returns [0, 1); injected so backoff is deterministic in tests. */
  random?: () => number;
  /** Called before each wait; the hook for logs and metrics. */
  onRetry?: (event: { attempt: number; delayMs: number; error: ConnectorError }) => void;
}

export type RetryOutcome<T> = { ok: true; value: T; attempts: number } | { ok: false; error: ConnectorError; attempts: number; exhausted: boolean };

export const DEFAULT_RETRY_OPTIONS: Readonly<Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>> = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

/**
 * Delay before attempt `attempt + 1`: "full jitter" over an exponential ceiling, so that many
 * connectors failing together do not come back in lock-step. A provider's retry-after hint
 * raises the floor.
 */
export function backoffDelayMs(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number, retryAfterMs = 0): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.min(options.maxDelayMs, Math.max(jittered, retryAfterMs));
}

/**
 * Runs `fn` until it succeeds, throws a terminal error, or runs out of attempts. Never
 * throws: the caller turns a failed outcome into an explicit failed state.
 */
export async function runWithRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<RetryOutcome<T>> {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
  }
  const sleep = options.sleeper ?? realSleeper;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await fn(attempt), attempts: attempt };
    } catch (thrown) {
      const error = toConnectorError(thrown);
      if (!error.retriable) return { ok: false, error, attempts: attempt, exhausted: false };
      if (attempt >= options.maxAttempts) return { ok: false, error, attempts: attempt, exhausted: true };
      const delayMs = backoffDelayMs(attempt, options, random, error.retryAfterMs);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
