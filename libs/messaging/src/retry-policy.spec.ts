import { INTERRUPTED, pause, retryForever } from './retry-policy';

const policy = { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 1_000 };

describe('retryForever', () => {
  it('given work failing more often than maxAttempts, then it keeps retrying with capped backoff until the work succeeds', async () => {
    const waits: number[] = [];
    const failures: number[] = [];
    const result = await retryForever(
      async (attempt) => {
        if (attempt < 8) throw new Error(`failure ${attempt}`);
        return 'done';
      },
      {
        policy,
        signal: new AbortController().signal,
        onFailure: (_e, attempt) => failures.push(attempt),
        wait: async (ms) => void waits.push(ms),
        random: () => 1,
      },
    );
    expect(result).toBe('done');
    expect(failures).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(waits).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('given the signal aborts while waiting, then it returns INTERRUPTED without another attempt', async () => {
    const stop = new AbortController();
    let attempts = 0;
    const result = await retryForever(
      async () => {
        attempts += 1;
        throw new Error('down');
      },
      { policy, signal: stop.signal, onFailure: () => undefined, wait: async () => stop.abort() },
    );
    expect(result).toBe(INTERRUPTED);
    expect(attempts).toBe(1);
  });

  it('given the signal aborted while the work ran, then its failure is not reported and nothing is retried', async () => {
    const stop = new AbortController();
    const onFailure = jest.fn();
    const result = await retryForever(
      async () => {
        stop.abort();
        throw new Error('down');
      },
      { policy, signal: stop.signal, onFailure },
    );
    expect(result).toBe(INTERRUPTED);
    expect(onFailure).not.toHaveBeenCalled();
  });

  it('pause ends early when its signal aborts', async () => {
    const stop = new AbortController();
    const paused = pause(60_000, stop.signal);
    stop.abort();
    await expect(paused).resolves.toBeUndefined();
  });
});
