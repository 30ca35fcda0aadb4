import type { AdjustableClock } from '@grantline/decider';

function assertForward(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only move forward by a finite number of ms, got ${ms}`);
}

/**
 * Wall-clock time plus an offset that only grows: time keeps flowing (an e2e run behaves like production) and a
 * test can jump a month ahead. Never goes backwards, so a timer that fired stays fired.
 */
export class OffsetClock implements AdjustableClock {
  private offsetMs = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  now(): Date {
    return new Date(this.wallClock() + this.offsetMs);
  }

  advance(ms: number): Date {
    assertForward(ms);
    this.offsetMs += ms;
    return this.now();
  }

  get offset(): number {
    return this.offsetMs;
  }
}

/** A frozen clock for unit tests: time moves only when the test says so. */
export class FixedClock implements AdjustableClock {
  private at: number;

  constructor(start: Date | string) {
    this.at = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  advance(ms: number): Date {
    assertForward(ms);
    this.at += ms;
    return this.now();
  }

  set(to: Date | string): Date {
    const next = new Date(to).getTime();
    assertForward(next - this.at);
    this.at = next;
    return this.now();
  }
}
