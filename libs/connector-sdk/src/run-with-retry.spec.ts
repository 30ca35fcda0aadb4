import { ConnectorError } from './connector-error';
import { backoffDelayMs, runWithRetry } from './run-with-retry';

function recordingSleeper(): { sleeper: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleeper: async (ms) => void waits.push(ms) };
}

function failing(errors: unknown[], value = 'done'): { fn: (attempt: number) => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    fn: async () => {
      const error = errors[calls];
      calls += 1;
      if (error !== undefined) throw error;
      return value;
    },
  };
}

const unavailable = (): ConnectorError => new ConnectorError('unavailable', 'target down');

describe('runWithRetry', () => {
  it('retries retriable errors with growing, capped waits and returns the value', async () => {
    const { sleeper, waits } = recordingSleeper();
    const target = failing([unavailable(), unavailable(), unavailable(), unavailable()]);
    const outcome = await runWithRetry(target.fn, {
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 500,
      sleeper,
      random: () => 0.999999,
    });
    expect(outcome).toEqual({ ok: true, value: 'done', attempts: 5 });
    expect(waits).toEqual([99, 199, 399, 499]);
  });

  it('fails at once on a terminal error, without waiting', async () => {
    const { sleeper, waits } = recordingSleeper();
    const target = failing([new ConnectorError('permission_denied', 'no')]);
    const outcome = await runWithRetry(target.fn, { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 500, sleeper });
    expect(outcome).toMatchObject({ ok: false, attempts: 1, exhausted: false, error: { code: 'permission_denied' } });
    expect(target.calls()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('reports exhaustion with the attempts made and the last error', async () => {
    const { sleeper, waits } = recordingSleeper();
    const last = new ConnectorError('timeout', 'third time');
    const target = failing([unavailable(), unavailable(), last]);
    const outcome = await runWithRetry(target.fn, { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100, sleeper });
    expect(outcome).toEqual({ ok: false, error: last, attempts: 3, exhausted: true });
    expect(waits).toHaveLength(2);
  });

  it('maps raw provider errors before deciding (socket refusal is retriable, the rest terminal)', async () => {
    const { sleeper } = recordingSleeper();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const target = failing([refused, new Error('syntax?')]);
    const outcome = await runWithRetry(target.fn, { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleeper });
    expect(outcome).toMatchObject({ ok: false, attempts: 2, error: { code: 'unknown', errorClass: 'terminal' } });
  });

  it('waits at least as long as the provider asks', async () => {
    const { sleeper, waits } = recordingSleeper();
    const target = failing([new ConnectorError('rate_limited', 'slow down', { retryAfterMs: 700 })]);
    await runWithRetry(target.fn, { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 5_000, sleeper, random: () => 0 });
    expect(waits).toEqual([700]);
  });

  it('tells an observer about every retry', async () => {
    const { sleeper } = recordingSleeper();
    const seen: number[] = [];
    const target = failing([unavailable(), unavailable()]);
    await runWithRetry(target.fn, {
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleeper,
      onRetry: ({ attempt }) => seen.push(attempt),
    });
    expect(seen).toEqual([1, 2]);
  });

  it('rejects a nonsensical attempt budget', async () => {
    await expect(runWithRetry(async () => 1, { maxAttempts: 0, baseDelayMs: 1, maxDelayMs: 1 })).rejects.toThrow(RangeError);
  });
});

describe('backoffDelayMs', () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('spreads waits over [0, ceiling) with full jitter', () => {
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, options, () => 0.999)).toBe(399);
  });

  it('never exceeds the cap, even when asked to wait longer', () => {
    expect(backoffDelayMs(30, options, () => 0.999)).toBe(999);
    expect(backoffDelayMs(1, options, () => 0, 60_000)).toBe(1_000);
  });
});
