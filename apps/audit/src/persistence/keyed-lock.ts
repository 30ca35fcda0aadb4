/**
 * Runs work for one key at a time, in arrival order, within this process. FerretDB v1 does not apply a
 * filtered update atomically (ten concurrent `$inc` on one document left it at 2; ten `replaceOne` with the
 * same revision filter all matched), so the revision check alone cannot stop a lost update there.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
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
