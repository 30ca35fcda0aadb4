/**
 * The one "wait until the fact is known, bounded" mechanism (ADR 0006). Kafka orders events only within a
 * partition, so a service can see a request before the directory fact it needs (the subject, the manager, the
 * catalogue entry), although that fact was published first. Such work is parked with what it awaits; each new
 * fact lets the service re-check and release it; after `waitMs` the wait is over and `onWaitOver` decides with
 * what is known. A failing `onWaitOver` is never dropped: the entry waits again for `retryMs` and is retried.
 *
 * Entries live in memory. A service using this must find its parked work again after a restart from its own
 * state (e.g. "requests with no decision"), because the offsets of parked inputs are committed.
 */
export interface WaitTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const systemTimers: WaitTimers = {
  set: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending wait alone must not keep the process alive: the consumers do.
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface BoundedWaitOptions<Awaited> {
  /** How long work waits for the facts it lacks before it is decided with what is known. */
  readonly waitMs: number;
  /** After a failed `onWaitOver`, how long before it is tried again. */
  readonly retryMs?: number;
  readonly timers?: WaitTimers;
  /** The wait is over: decide with what is known. `awaited` is what was still missing. */
  readonly onWaitOver: (id: string, awaited: readonly Awaited[]) => Promise<void>;
  /** Told about a failed `onWaitOver` before its retry is scheduled. */
  readonly onRetry?: (id: string, error: unknown) => void;
}

interface Entry<Awaited> {
  awaited: readonly Awaited[];
  timer: unknown;
}

export class BoundedWait<Awaited = string> {
  private readonly entries = new Map<string, Entry<Awaited>>();
  private readonly timers: WaitTimers;
  private stopped = false;

  constructor(private readonly options: BoundedWaitOptions<Awaited>) {
    this.timers = options.timers ?? systemTimers;
  }

  /**
   * Parks `id` until the facts it awaits arrive or the wait is over. The first park sets the deadline; parking
   * again (a redelivery, a re-check that still lacks something) only updates what is awaited. False once stopped.
   */
  park(id: string, awaited: readonly Awaited[], afterMs = this.options.waitMs): boolean {
    if (this.stopped) return false;
    const known = this.entries.get(id);
    if (known) {
      known.awaited = awaited;
      return true;
    }
    const entry: Entry<Awaited> = { awaited, timer: undefined };
    entry.timer = this.timers.set(() => void this.waitOver(id, entry), afterMs);
    this.entries.set(id, entry);
    return true;
  }

  /** Stops waiting for `id` (its facts arrived, or it no longer needs deciding); returns what it still awaited. */
  release(id: string): readonly Awaited[] | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.timers.clear(entry.timer);
    this.entries.delete(id);
    return entry.awaited;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** What each parked id awaits, now. */
  waiting(): ReadonlyMap<string, readonly Awaited[]> {
    return new Map([...this.entries].map(([id, entry]) => [id, entry.awaited]));
  }

  /** Clears every timer. Nothing is lost: parked work is found again from the service's state at the next start. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) this.timers.clear(entry.timer);
    this.entries.clear();
  }

  private async waitOver(id: string, entry: Entry<Awaited>): Promise<void> {
    // Released or replaced meanwhile: that path decided it.
    if (this.stopped || this.entries.get(id) !== entry) return;
    this.entries.delete(id);
    try {
      await this.options.onWaitOver(id, entry.awaited);
    } catch (error) {
      this.options.onRetry?.(id, error);
      this.park(id, entry.awaited, this.options.retryMs ?? 1_000);
    }
  }
}
