import type { PendingTimer } from './scheduler.state';

interface Entry {
  readonly dueAt: number;
  readonly timerId: string;
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.timerId < b.timerId);
}

/**
 * The pending timers, plus a min-heap on due time so a tick looks only at what is due instead of scanning every
 * timer (a month of ticks over thousands of timers went from seconds to milliseconds). Deletions and moved
 * deadlines leave stale heap entries behind; they are recognised (the map no longer agrees) and dropped when reached.
 */
export class TimerIndex extends Map<string, PendingTimer> {
  private heap: Entry[] = [];

  override set(timerId: string, timer: PendingTimer): this {
    super.set(timerId, timer);
    // Map's constructor calls set() before the subclass fields exist.
    if (this.heap !== undefined) this.push({ dueAt: timer.dueAt, timerId });
    return this;
  }

  override clear(): void {
    super.clear();
    this.heap = [];
  }

  /** An independent copy, stale heap entries included, so it is the same index (and compares equal). */
  clone(): TimerIndex {
    const copy = new TimerIndex();
    for (const [timerId, timer] of this) Map.prototype.set.call(copy, timerId, timer);
    copy.heap = [...this.heap];
    return copy;
  }

  /** Pending timers due at `at`, earliest first (ties by id), at most `limit`; nothing is removed. */
  dueAt(at: number, limit: number): PendingTimer[] {
    const taken: Entry[] = [];
    const result: PendingTimer[] = [];
    const seen = new Set<string>();
    while (result.length < limit) {
      const top = this.heap[0];
      if (top === undefined || top.dueAt > at) break;
      this.pop();
      const timer = this.get(top.timerId);
      if (timer === undefined || timer.dueAt !== top.dueAt || seen.has(top.timerId)) continue;
      seen.add(top.timerId);
      taken.push(top);
      result.push(timer);
    }
    for (const entry of taken) this.push(entry);
    return result;
  }

  /** The earliest pending due time (skipping stale entries), or undefined. */
  earliest(): number | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return undefined;
      if (this.get(top.timerId)?.dueAt === top.dueAt) return top.dueAt;
      this.pop();
    }
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry, heap[parent] as Entry)) break;
      [heap[i], heap[parent]] = [heap[parent] as Entry, heap[i] as Entry];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left] as Entry, heap[smallest] as Entry)) smallest = left;
      if (right < heap.length && before(heap[right] as Entry, heap[smallest] as Entry)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as Entry, heap[i] as Entry];
      i = smallest;
    }
  }
}
