/**
 * Runs async work for one key at a time, in arrival order, within this process; other keys run alongside.
 * Services use it where one aggregate or document must see the state the previous writer left: HTTP decisions
 * racing consumer events on one request, and read-model writes on FerretDB v1, which does not apply a filtered
 * update atomically (concurrent replaces with the same revision filter all "match"), so the revision check alone
 * cannot stop a lost update there. A key is forgotten once nothing is queued behind it.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
