import type { ConsumerHealthTracker } from './consumer-health';
import { pause } from './retry-policy';

/** Where one partition ends and where the group stands on it. */
export interface PartitionLag {
  /** The logical topic, as the health tracker knows it. */
  readonly topic: string;
  /** How the lag report names the topic (its name on the cluster). */
  readonly label: string;
  readonly partition: number;
  /** The partition's end offset. */
  readonly high: bigint;
  /** The group's committed position (-1 or absent: nothing committed). */
  readonly committed: bigint | undefined;
}

/**
 * `RunningConsumer.whenCaughtUp` for any transport: resolves once the group's position is at the end of every
 * partition; rejects at once when a partition it waits for is halted (it cannot move) or the consumer crashed.
 */
export async function waitUntilCaughtUp(
  groupId: string,
  tracker: ConsumerHealthTracker,
  partitions: () => Promise<readonly PartitionLag[]>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lagging: string[] = [];
    for (const { topic, label, partition, high, committed } of await partitions()) {
      const here = tracker.position(topic, partition) ?? -1n;
      const there = committed ?? -1n;
      const position = here > there ? here : there;
      if (high > 0n && position < high) lagging.push(`${label}/${partition}: at ${position} of ${high}`);
    }
    if (lagging.length === 0) return;
    const halts = tracker.halts();
    if (halts.length > 0) {
      const where = halts.map((h) => `${h.topic}/${h.partition} at offset ${h.offset} (${h.eventType})`).join(', ');
      throw new Error(`consumer ${groupId} halted on an unknown event type: ${where}`);
    }
    const crashed = tracker.health().problems.find((problem) => problem.state === 'crashed');
    if (crashed) throw new Error(`consumer ${groupId} crashed: ${crashed.reason}`);
    if (Date.now() > deadline) throw new Error(`consumer ${groupId} not caught up: ${lagging.join(', ')}`);
    await pause(50);
  }
}
