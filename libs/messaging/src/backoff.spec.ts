import { backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  const policy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 };

  it('grows exponentially between half and the whole ceiling', () => {
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(50);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(400);
  });

  it('never exceeds the maximum delay', () => {
    expect(backoffDelayMs(policy, 20, () => 1)).toBe(1_000);
  });
});
