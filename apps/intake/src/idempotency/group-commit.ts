/** One item's result in a batch write: its value, or why this item (and only this one) failed. */
export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/**
 * Group commit: one write in flight at a time, carrying everything submitted since the previous one started. A
 * lone request waits for nothing (its write starts on the next turn of the event loop); under load, concurrent
 * requests share one round trip instead of queueing for one each. `write` answers per item (an item may fail alone,
 * as in an unordered insertMany); if it throws, every item of the batch fails with that error.
 */
export class GroupCommit<T, R> {
  private queue: { readonly item: T; readonly resolve: (value: R) => void; readonly reject: (error: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly write: (items: readonly T[]) => Promise<readonly Settled<R>[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // Everything submitted in the same turn (requests whose acks arrived together) joins this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.write(batch.map((entry) => entry.item));
      batch.forEach((entry, i) => {
        const result = results[i];
        if (result === undefined) entry.reject(new Error('group commit: the write answered fewer items than it was given'));
        else if (result.ok) entry.resolve(result.value);
        else entry.reject(result.error);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushing = false;
      // What arrived while this write ran goes out now, together.
      if (this.queue.length > 0) this.schedule();
    }
  }
}
