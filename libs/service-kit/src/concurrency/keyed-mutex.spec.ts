import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex (ordering)', () => {
  it('Given concurrent work on one key, When run, Then it never overlaps and keeps arrival order', async () => {
    const lock = new KeyedMutex();
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
    const lock = new KeyedMutex();
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
    const lock = new KeyedMutex();
    await expect(lock.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');

    await expect(lock.run('k', () => Promise.resolve('next'))).resolves.toBe('next');
  });
});

describe('KeyedMutex', () => {
  it('runs work on one key one at a time, in arrival order, and other keys alongside', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = mutex.run('a', async () => {
      log.push('a1 start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      log.push('a1 end');
    });
    const second = mutex.run('a', async () => void log.push('a2'));
    await mutex.run('b', async () => void log.push('b1'));
    expect(log).toEqual(['a1 start', 'b1']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('releases the key when work fails', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('a', async () => 'next')).resolves.toBe('next');
  });
});
