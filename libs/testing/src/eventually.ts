export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries an assertion until it passes or the time is up, then rethrows its last error:
 * specs wait for an observable condition instead of sleeping.
 */
export async function eventually<T>(assertion: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() + intervalMs > deadline) {
        if (err instanceof Error) {
          err.message = `${err.message}\n(eventually: still failing after ${attempts} attempts in ${timeoutMs} ms)`;
          throw err;
        }
        throw new Error(`eventually: still failing after ${attempts} attempts in ${timeoutMs} ms: ${String(err)}`);
      }
    }
    await pause(intervalMs);
  }
}
