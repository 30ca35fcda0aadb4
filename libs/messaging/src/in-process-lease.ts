import type { CampaignOptions, Lease, LeaseElector } from './lease';
import { LeaseKeeper } from './lease-keeper';
import type { LeaseTimers } from './lease-keeper';

/**
 * Leases within one process, for specs: the first candidate holds the lease, the others wait in arrival order and
 * the next one takes it when the holder releases it or loses it (`revoke`, what a broker does to a holder it stopped
 * hearing from). Nothing expires by itself.
 */
export class InProcessLeaseElector implements LeaseElector {
  private readonly candidates = new Map<string, LeaseKeeper[]>();

  constructor(private readonly timers?: LeaseTimers) {}

  async campaign(options: CampaignOptions): Promise<Lease> {
    const keeper: LeaseKeeper = new LeaseKeeper({
      ...options,
      sessionTimeoutMs: Number.POSITIVE_INFINITY,
      safetyMarginMs: 0,
      ...(this.timers ? { timers: this.timers } : {}),
      onRelease: async () => this.leave(options.name, keeper),
    });
    // After every listener of the old holder ran (they stop its work), never before.
    keeper.onLost(() => queueMicrotask(() => this.leave(options.name, keeper)));
    this.queue(options.name).push(keeper);
    this.elect(options.name);
    return keeper;
  }

  async close(): Promise<void> {
    await Promise.all([...this.candidates.values()].flat().map((keeper) => keeper.release()));
  }

  /** The instance holding the named lease now, if any. */
  holder(name: string): string | undefined {
    return this.queue(name).find((keeper) => keeper.state === 'held')?.instanceId;
  }

  /** Takes the lease from its holder (a network partition, an expired session): it is lost there, and the next candidate gets it. */
  revoke(name: string, reason = 'revoked by the in-process elector'): void {
    this.queue(name)
      .find((keeper) => keeper.state === 'held')
      ?.failed(reason);
  }

  private queue(name: string): LeaseKeeper[] {
    let queue = this.candidates.get(name);
    if (!queue) {
      queue = [];
      this.candidates.set(name, queue);
    }
    return queue;
  }

  private leave(name: string, keeper: LeaseKeeper): void {
    const queue = this.queue(name);
    const index = queue.indexOf(keeper);
    if (index >= 0) queue.splice(index, 1);
    this.elect(name);
  }

  private elect(name: string): void {
    const queue = this.queue(name);
    if (queue.some((keeper) => keeper.state === 'held')) return;
    queue.find((keeper) => keeper.state === 'standby')?.assignment(true, this.timers ? this.timers.now() : Date.now());
  }
}
