import { GroupCommit } from './group-commit';
import type { Settled } from './group-commit';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('group commit', () => {
  it('sends what is submitted together in one write, and what arrives during a write in the next one', async () => {
    const batches: number[][] = [];
    let hold = deferred();
    const commits = new GroupCommit<number, number>(async (items) => {
      batches.push([...items]);
      await hold.promise;
      return items.map((item) => ({ ok: true, value: item * 10 }));
    });
    const first = [commits.submit(1), commits.submit(2), commits.submit(3)];
    // The first write is in flight (held) once its batch is recorded; these wait for the next one.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const second = [commits.submit(4), commits.submit(5)];
    expect(batches).toEqual([[1, 2, 3]]);
    const held = hold;
    hold = { promise: Promise.resolve(), resolve: () => undefined };
    held.resolve();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('fails an item alone when the write says so, and every item of a write that throws', async () => {
    let throwing = false;
    const commits = new GroupCommit<number, number>(async (items): Promise<Settled<number>[]> => {
      if (throwing) throw new Error('store down');
      return items.map((item) => (item === 2 ? { ok: false, error: new Error('bad item') } : { ok: true, value: item }));
    });
    const outcomes = await Promise.allSettled([commits.submit(1), commits.submit(2), commits.submit(3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    throwing = true;
    await expect(Promise.all([commits.submit(4), commits.submit(5)])).rejects.toThrow('store down');
  });

  it('writes at most maxBatch items at once', async () => {
    const sizes: number[] = [];
    const commits = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items.map((item) => ({ ok: true, value: item }));
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => commits.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
