import type { DedupStore } from './ports';

/**
 * Bounded, in-process memory of handled event ids per group. It catches the common duplicate
 * (a producer retry or a redelivery after a rebalance) cheaply; handlers that must survive a
 * restart keep their own durable idempotency (checkpoints, unique keys) as well.
 */
export class InMemoryDedupStore implements DedupStore {
  private readonly byGroup = new Map<string, Set<string>>();

  constructor(private readonly capacityPerGroup = 100_000) {}

  async seen(groupId: string, eventId: string): Promise<boolean> {
    return this.byGroup.get(groupId)?.has(eventId) ?? false;
  }

  async remember(groupId: string, eventId: string): Promise<void> {
    let ids = this.byGroup.get(groupId);
    if (!ids) {
      ids = new Set();
      this.byGroup.set(groupId, ids);
    }
    ids.add(eventId);
    if (ids.size > this.capacityPerGroup) {
      // Sets iterate in insertion order: evict the oldest id.
      const oldest = ids.values().next().value;
      if (oldest !== undefined) ids.delete(oldest);
    }
  }
}
