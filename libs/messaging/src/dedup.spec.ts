import { InMemoryDedupStore } from './dedup';

describe('InMemoryDedupStore', () => {
  it('remembers ids per group', async () => {
    const store = new InMemoryDedupStore();
    await store.remember('g1', 'e1');
    expect(await store.seen('g1', 'e1')).toBe(true);
    expect(await store.seen('g2', 'e1')).toBe(false);
  });

  it('forgets the oldest id beyond its capacity', async () => {
    const store = new InMemoryDedupStore(2);
    for (const id of ['e1', 'e2', 'e3']) await store.remember('g', id);
    expect(await store.seen('g', 'e1')).toBe(false);
    expect(await store.seen('g', 'e3')).toBe(true);
  });
});
