export interface MemoryBounds {
  /** At most this many entries; the oldest write goes first. */
  readonly maxEntries: number;
  /** An entry written longer ago than this is forgotten. */
  readonly ttlMs: number;
}

interface Entry<V> {
  readonly value: V;
  readonly writtenAt: number;
}

/**
 * A per-process memory bounded in size and age: what this instance did recently, kept only as long as it helps
 * (a replay without a database read, a read-your-writes overlay). Losing it (a restart, another instance) must only
 * cost a slower path, never a wrong answer. Age is measured on a monotonic clock, not business time.
 */
export class BoundedMemory<V> {
  /** In write order: the first entry is the oldest. */
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly bounds: MemoryBounds,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() - entry.writtenAt > this.bounds.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    // Re-inserted, so the write order stays the age order.
    this.entries.delete(key);
    const now = this.now();
    this.entries.set(key, { value, writtenAt: now });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.bounds.maxEntries && now - entry.writtenAt <= this.bounds.ttlMs) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
