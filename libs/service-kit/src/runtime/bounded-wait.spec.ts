import { BoundedWait } from './bounded-wait';
import { ManualTimers } from '@grantline/testing';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BoundedWait', () => {
  const setup = (onWaitOver: (id: string, awaited: readonly string[]) => Promise<void> = async () => undefined) => {
    const timers = new ManualTimers();
    const over: { id: string; awaited: readonly string[] }[] = [];
    const retried: string[] = [];
    const wait = new BoundedWait<string>({
      waitMs: 30_000,
      retryMs: 500,
      timers,
      onWaitOver: async (id, awaited) => {
        over.push({ id, awaited });
        await onWaitOver(id, awaited);
      },
      onRetry: (id) => retried.push(id),
    });
    return { timers, wait, over, retried };
  };

  it('given parked work, when its fact arrives and it is released, then the wait never fires', async () => {
    const { timers, wait, over } = setup();
    wait.park('req-1', ['subject alice']);
    expect(wait.release('req-1')).toEqual(['subject alice']);
    timers.fireAll();
    await settle();
    expect(over).toEqual([]);
    expect(wait.size).toBe(0);
  });

  it('given parked work, when the wait is over, then it is decided with what it still awaited', async () => {
    const { timers, wait, over } = setup();
    wait.park('req-1', ['subject alice', 'manager bob']);
    wait.park('req-1', ['manager bob']); // a re-check that still lacks something keeps the first deadline
    expect(timers.pending.size).toBe(1);
    timers.fireAll();
    await settle();
    expect(over).toEqual([{ id: 'req-1', awaited: ['manager bob'] }]);
    expect(wait.has('req-1')).toBe(false);
  });

  it('given a wait whose decision fails, then it is parked again with the retry delay, never dropped', async () => {
    let fail = true;
    const { timers, wait, over, retried } = setup(async () => {
      if (fail) throw new Error('broker unavailable');
    });
    wait.park('req-1', ['x']);
    timers.fireAll();
    await settle();
    expect(retried).toEqual(['req-1']);
    expect(wait.waiting()).toEqual(new Map([['req-1', ['x']]]));
    expect([...timers.pending.values()].map((timer) => timer.ms)).toEqual([500]);
    fail = false;
    timers.fireAll();
    await settle();
    expect(over).toHaveLength(2);
    expect(wait.size).toBe(0);
  });

  it('once stopped, nothing is parked and no timer is left', () => {
    const { timers, wait } = setup();
    wait.park('req-1', ['x']);
    wait.stop();
    expect(timers.pending.size).toBe(0);
    expect(wait.park('req-2', ['y'])).toBe(false);
  });
});
