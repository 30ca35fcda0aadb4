import type { Lease, LeaseLostListener, LeaseState, LeaseStatus } from './lease';
import { LeaseNotHeldError } from './lease';

/** Time and timers of a lease; specs drive a manual one. */
export interface LeaseTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemLeaseTimers: LeaseTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    // The fence must not keep a stopping process alive; it still fires while the process runs.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LeaseKeeperOptions {
  readonly name: string;
  readonly instanceId: string;
  /**
   * How long the coordinator keeps a member it has not heard from; only after that can it give the lease to another
   * instance. Infinite for a lease nobody can take away (in-process).
   */
  readonly sessionTimeoutMs: number;
  /**
   * The holder gives the lease up this long before the coordinator could: room for a late timer, clocks running at
   * slightly different rates and the stop itself.
   */
  readonly safetyMarginMs: number;
  /**
   * A standby acts on an assignment only when at least this long is left of it; otherwise it waits for a heartbeat
   * to renew it. A join that waited out the previous holder's session leaves a lease that runs out moments after it
   * is given, and an instance that starts its service on it would lose it (and exit) before its first heartbeat.
   */
  readonly minimumToActMs?: number;
  readonly timers?: LeaseTimers;
  /** What releasing does besides the bookkeeping (leaving the group); awaited by `release()`. */
  readonly onRelease?: () => Promise<void>;
}

/**
 * The elector logic, free of any transport. The implementation reports what the coordinator said — an assignment
 * after each (re)join, each accepted heartbeat, a membership in doubt — and the keeper decides:
 * - the lease is held from an assignment of it until `validUntil` = the time the last accepted request was *sent* +
 *   session timeout − safety margin. The coordinator cannot have expired this member before the session timeout
 *   counted from when it received that request, which is no earlier than when it was sent;
 * - each accepted heartbeat moves `validUntil` on; a rebalance does not (its requests are not accepted), so a
 *   holder that cannot rejoin in time runs out;
 * - when `validUntil` passes (a fence timer, and `isHeld()` reads the clock), or the coordinator gives the lease to
 *   another member, or the membership is in doubt, the lease is `lost` for good: listeners are called at once.
 */
export class LeaseKeeper implements Lease {
  private phase: LeaseState = 'standby';
  private changedAt: number;
  private assigned = false;
  private confirmedAt: number | undefined;
  private reason: string | undefined;
  private fence: unknown;
  private readonly listeners = new Set<LeaseLostListener>();
  private readonly acquired: Promise<void>;
  private resolveAcquired!: () => void;
  private rejectAcquired!: (error: Error) => void;
  private releasing: Promise<void> | undefined;
  private readonly timers: LeaseTimers;

  constructor(private readonly options: LeaseKeeperOptions) {
    if (!(options.sessionTimeoutMs > 0)) throw new RangeError(`lease session timeout must be positive, got ${options.sessionTimeoutMs}`);
    if (!(options.safetyMarginMs >= 0 && options.safetyMarginMs < options.sessionTimeoutMs)) {
      throw new RangeError(`lease safety margin must be in [0, session timeout), got ${options.safetyMarginMs}`);
    }
    this.timers = options.timers ?? systemLeaseTimers;
    this.changedAt = this.timers.now();
    this.acquired = new Promise<void>((resolve, reject) => {
      this.resolveAcquired = resolve;
      this.rejectAcquired = reject;
    });
    // Released before it was acquired: not an unhandled rejection when nobody waits.
    this.acquired.catch(() => undefined);
  }

  get name(): string {
    return this.options.name;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  get state(): LeaseState {
    return this.phase;
  }

  /** Until when no other instance can have been given the lease; undefined unless this instance was assigned it. */
  validUntil(): number | undefined {
    if (!this.assigned || this.confirmedAt === undefined) return undefined;
    return this.confirmedAt + this.options.sessionTimeoutMs - this.options.safetyMarginMs;
  }

  isHeld(): boolean {
    const until = this.validUntil();
    return this.phase === 'held' && until !== undefined && this.timers.now() < until;
  }

  /** For the election: whether this candidate claims the lease (it holds it) and may be given it (it campaigns). */
  claim(): { readonly holding: boolean; readonly eligible: boolean } {
    return { holding: this.isHeld(), eligible: this.phase === 'standby' || this.phase === 'held' };
  }

  status(): LeaseStatus {
    const until = this.validUntil();
    return {
      name: this.name,
      instanceId: this.instanceId,
      state: this.phase,
      since: new Date(this.changedAt).toISOString(),
      ...(this.phase === 'held' && until !== undefined && Number.isFinite(until) ? { validUntil: new Date(until).toISOString() } : {}),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }

  whenAcquired(): Promise<void> {
    return this.acquired;
  }

  onLost(listener: LeaseLostListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A (re)join ended: whether the coordinator gave this member the lease; `joinStartedAt` is when the join began. */
  assignment(holds: boolean, joinStartedAt: number): void {
    if (this.phase === 'lost' || this.phase === 'released') return;
    if (!holds) {
      this.assigned = false;
      this.confirmedAt = undefined;
      if (this.phase === 'held') this.lose('the coordinator gave the lease to another instance');
      return;
    }
    this.assigned = true;
    this.confirmedAt = Math.max(this.confirmedAt ?? joinStartedAt, joinStartedAt);
    this.settle();
  }

  /** A heartbeat sent at `sentAt` was accepted: the member (and its assignment) is still current. */
  confirmed(sentAt: number): void {
    if (!this.assigned || this.phase === 'lost' || this.phase === 'released') return;
    this.confirmedAt = Math.max(this.confirmedAt ?? sentAt, sentAt);
    this.settle();
  }

  /** The membership is in doubt (the client crashed or stopped): a held lease is lost; a standby notes why. */
  failed(reason: string): void {
    if (this.phase === 'held') {
      this.lose(reason);
      return;
    }
    if (this.phase === 'standby') {
      this.assigned = false;
      this.confirmedAt = undefined;
      this.reason = reason;
    }
  }

  /** A standby's campaign works again (after `failed`): forget the last problem. */
  campaigning(): void {
    if (this.phase === 'standby') this.reason = undefined;
  }

  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    this.clearFence();
    if (this.phase !== 'lost') this.transition('released');
    this.rejectAcquired(new LeaseNotHeldError(`the ${this.name} lease was released before this instance acquired it`));
    // Also after a loss: whatever the implementation still holds (a group membership) goes.
    this.releasing = this.options.onRelease ? this.options.onRelease() : Promise.resolve();
    return this.releasing;
  }

  /** Acquires or keeps the lease when the last word from the coordinator is recent enough, else lets it run out. */
  private settle(): void {
    const until = this.validUntil();
    if (until === undefined) return;
    if (this.timers.now() >= until) {
      if (this.phase === 'held') this.expire();
      // A standby whose join took too long waits for a heartbeat to confirm it.
      return;
    }
    if (this.phase === 'standby') {
      // Too little left to start on: the next accepted heartbeat renews it (see minimumToActMs).
      if (until - this.timers.now() < (this.options.minimumToActMs ?? 0)) return;
      this.reason = undefined;
      this.transition('held');
      this.resolveAcquired();
    }
    this.armFence();
  }

  private armFence(): void {
    if (this.fence !== undefined) return;
    const until = this.validUntil();
    if (until === undefined || !Number.isFinite(until)) return;
    this.fence = this.timers.setTimeout(
      () => {
        this.fence = undefined;
        if (this.phase !== 'held') return;
        const left = (this.validUntil() ?? 0) - this.timers.now();
        if (left <= 0) this.expire();
        else this.armFence();
      },
      Math.max(0, until - this.timers.now()),
    );
  }

  private clearFence(): void {
    if (this.fence === undefined) return;
    this.timers.clearTimeout(this.fence);
    this.fence = undefined;
  }

  private expire(): void {
    const silentMs = this.timers.now() - (this.confirmedAt ?? this.changedAt);
    this.lose(
      `no word from the coordinator for ${silentMs} ms (session timeout ${this.options.sessionTimeoutMs} ms, margin ${this.options.safetyMarginMs} ms): another instance may be given the lease`,
    );
  }

  private lose(reason: string): void {
    this.clearFence();
    this.reason = reason;
    this.assigned = false;
    this.transition('lost');
    for (const listener of [...this.listeners]) {
      try {
        listener(reason);
      } catch {
        // One listener failing must not keep the others from stopping their work.
      }
    }
  }

  private transition(phase: LeaseState): void {
    this.phase = phase;
    this.changedAt = this.timers.now();
  }
}
