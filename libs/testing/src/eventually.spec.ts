import { eventually } from './eventually';

describe('eventually', () => {
  it('retries until the assertion passes and returns its value', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls++;
        if (calls < 3) throw new Error(`not yet (${calls})`);
        return 'done';
      },
      { timeoutMs: 2000, intervalMs: 5 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('awaits async assertions', async () => {
    let calls = 0;
    await expect(
      eventually(
        async () => {
          calls++;
          expect(calls).toBeGreaterThan(1);
          return calls;
        },
        { timeoutMs: 2000, intervalMs: 5 },
      ),
    ).resolves.toBe(2);
  });

  it('fails with the last error once the time is up', async () => {
    let calls = 0;
    const failing = eventually(
      () => {
        calls++;
        throw new Error(`attempt ${calls} failed`);
      },
      { timeoutMs: 100, intervalMs: 10 },
    );
    await expect(failing).rejects.toThrow(/attempt \d+ failed[\s\S]*still failing after \d+ attempts in 100 ms/);
    expect(calls).toBeGreaterThan(1);
    // the message names the last attempt, not the first
    await failing.catch((err: Error) => expect(err.message).toContain(`attempt ${calls} failed`));
  });

  it('fails on a jest assertion that never holds', async () => {
    await expect(eventually(() => expect(1).toBe(2), { timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(/Expected: 2/);
  });

  it('wraps non-Error throws', async () => {
    await expect(
      eventually(
        () => {
          throw 'plain string';
        },
        { timeoutMs: 20, intervalMs: 5 },
      ),
    ).rejects.toThrow(/still failing .*: plain string/);
  });
});
