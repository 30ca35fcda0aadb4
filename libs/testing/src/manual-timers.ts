/**
 * Timers a spec fires by hand (the shape of service-kit's `WaitTimers`): a wait is over when the spec says so,
 * never after wall-clock time.
 */
export class ManualTimers {
  private next = 0;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  set(callback: () => void, ms: number): number {
    this.next += 1;
    this.pending.set(this.next, { callback, ms });
    return this.next;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}
