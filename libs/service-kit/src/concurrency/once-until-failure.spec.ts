import { OnceUntilFailure } from './once-until-failure';

describe('OnceUntilFailure', () => {
  it('given a step that succeeded, then later callers share its result without running it again', async () => {
    const once = new OnceUntilFailure<number>();
    let runs = 0;
    const step = async (): Promise<number> => ++runs;

    expect(await Promise.all([once.run(step), once.run(step)])).toEqual([1, 1]);
    expect(await once.run(step)).toBe(1);
    expect(runs).toBe(1);
  });

  it('given a step that failed, then the next caller runs it again', async () => {
    const once = new OnceUntilFailure<string>();
    let runs = 0;
    const step = async (): Promise<string> => {
      runs += 1;
      if (runs === 1) throw new Error('not yet');
      return 'done';
    };

    await expect(once.run(step)).rejects.toThrow('not yet');
    expect(await once.run(step)).toBe('done');
    expect(await once.run(step)).toBe('done');
    expect(runs).toBe(2);
  });
});
