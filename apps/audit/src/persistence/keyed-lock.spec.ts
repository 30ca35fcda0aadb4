import { KeyedLock } from './keyed-lock';

describe('KeyedLock', () => {
  it('Given concurrent work on one key, When run, Then it never overlaps and keeps arrival order', async () => {
    const lock = new KeyedLock();
    const trace: string[] = [];
    let active = 0;
    let maxActive = 0;
    const work = (name: string) => async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      trace.push(`start ${name}`);
      await Promise.resolve();
      await Promise.resolve();
      trace.push(`end ${name}`);
      active -= 1;
    };

    await Promise.all([lock.run('k', work('a')), lock.run('k', work('b')), lock.run('k', work('c'))]);

    expect(maxActive).toBe(1);
    expect(trace).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('Given work on different keys, When run, Then they may interleave', async () => {
    const lock = new KeyedLock();
    const trace: string[] = [];
    const work = (name: string) => async () => {
      trace.push(`start ${name}`);
      await Promise.resolve();
      trace.push(`end ${name}`);
    };

    await Promise.all([lock.run('x', work('x')), lock.run('y', work('y'))]);

    expect(trace.slice(0, 2)).toEqual(['start x', 'start y']);
  });

  it('Given work that throws, When the next work runs on the key, Then it is not blocked', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');

    await expect(lock.run('k', () => Promise.resolve('next'))).resolves.toBe('next');
  });
});
