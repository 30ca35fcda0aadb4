import type { ConsumerHealth, ConsumerProblem, PartitionPosition } from './ports';

export const DEFAULT_STALL_AFTER_MS = 60_000;

interface PartitionState {
  /** The next offset to process: everything before it is committed. */
  position?: bigint;
  /** The end of the partition as of the last fetch. */
  highWatermark?: bigint;
  /** Last time the partition advanced, or was caught up when new messages arrived. */
  progressAt: number;
  failing?: { offset: string; since: number; attempts: number; error: string };
  halted?: { offset: string; eventType: string; reason: string; since: number };
}

/**
 * What one consumer knows about its partitions, turned into problems on demand. It only records what the runner
 * tells it (fetches, commits, failures, halts), so a readiness probe reads it without a broker round trip. Topics are
 * logical names. Time is injected so specs need no sleeps.
 */
export class ConsumerHealthTracker {
  private readonly partitions = new Map<string, PartitionState & { topic: string; partition: number }>();
  private crash: { reason: string; since: number } | undefined;

  constructor(
    private readonly groupId: string,
    private readonly stallAfterMs: number = DEFAULT_STALL_AFTER_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private state(topic: string, partition: number): PartitionState {
    const key = `${topic}/${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, progressAt: this.now() };
      this.partitions.set(key, state);
    }
    return state;
  }

  /** A batch arrived: `firstOffset` is where processing stands, `highWatermark` where the partition ends. */
  fetched(topic: string, partition: number, firstOffset: string | null, highWatermark: string): void {
    const state = this.state(topic, partition);
    if (state.position === undefined && firstOffset !== null) state.position = BigInt(firstOffset);
    const end = BigInt(highWatermark);
    // Idle until now: the time without progress starts with this batch, not with the last message hours ago.
    if (state.position === undefined || state.highWatermark === undefined || state.position >= state.highWatermark) state.progressAt = this.now();
    if (state.highWatermark === undefined || end > state.highWatermark) state.highWatermark = end;
  }

  /** Everything before `next` is committed. */
  advanced(topic: string, partition: number, next: bigint): void {
    const state = this.state(topic, partition);
    if (state.position !== undefined && state.position >= next) return;
    state.position = next;
    state.progressAt = this.now();
    if (state.highWatermark !== undefined && next > state.highWatermark) state.highWatermark = next;
  }

  position(topic: string, partition: number): bigint | undefined {
    return this.partitions.get(`${topic}/${partition}`)?.position;
  }

  /** The handler failed on `offset` (attempt `attempt`); it is being retried. */
  failing(topic: string, partition: number, offset: string, attempt: number, error: string): void {
    const state = this.state(topic, partition);
    const since = state.failing?.offset === offset ? state.failing.since : this.now();
    state.failing = { offset, since, attempts: attempt, error };
  }

  /** The handler succeeded, or the retrying ended because the consumer let go of the partition. */
  recovered(topic: string, partition: number): void {
    const state = this.partitions.get(`${topic}/${partition}`);
    if (state) delete state.failing;
  }

  halt(topic: string, partition: number, offset: string, eventType: string, reason: string): void {
    const state = this.state(topic, partition);
    if (state.halted?.offset !== offset) state.halted = { offset, eventType, reason, since: this.now() };
    delete state.failing;
  }

  isHalted(topic: string, partition: number): boolean {
    return this.partitions.get(`${topic}/${partition}`)?.halted !== undefined;
  }

  /** Halted partitions, for whenCaughtUp to fail fast instead of waiting for a partition that cannot move. */
  halts(): { topic: string; partition: number; offset: string; eventType: string }[] {
    return [...this.partitions.values()].flatMap((s) =>
      s.halted ? [{ topic: s.topic, partition: s.partition, offset: s.halted.offset, eventType: s.halted.eventType }] : [],
    );
  }

  crashed(reason: string): void {
    this.crash = { reason, since: this.now() };
  }

  isCrashed(): boolean {
    return this.crash !== undefined;
  }

  /**
   * The group gave this member a new assignment: partitions it no longer owns are another member's to report.
   * Returns the halted ones among them, which the runner resumes so that, if they come back, they are fetched
   * (and halt again) rather than sitting paused and unreported.
   */
  assigned(owned: ReadonlyMap<string, readonly number[]>): { topic: string; partition: number }[] {
    const released: { topic: string; partition: number }[] = [];
    for (const [key, state] of this.partitions) {
      if (owned.get(state.topic)?.includes(state.partition)) continue;
      if (state.halted) released.push({ topic: state.topic, partition: state.partition });
      this.partitions.delete(key);
    }
    return released;
  }

  health(): ConsumerHealth {
    const now = this.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const problems: ConsumerProblem[] = [];
    if (this.crash) problems.push({ state: 'crashed', reason: this.crash.reason, since: iso(this.crash.since) });
    for (const s of this.partitions.values()) {
      const at = { topic: s.topic, partition: s.partition };
      if (s.halted) {
        problems.push({ state: 'halted', ...at, offset: s.halted.offset, eventType: s.halted.eventType, reason: s.halted.reason, since: iso(s.halted.since) });
      } else if (s.failing && now - s.failing.since > this.stallAfterMs) {
        const reason = `handler failing for ${now - s.failing.since} ms (${s.failing.attempts} attempts), last: ${s.failing.error}`;
        problems.push({ state: 'stalled', ...at, offset: s.failing.offset, cause: 'failing', reason, since: iso(s.failing.since) });
      } else if (s.position !== undefined && s.highWatermark !== undefined && s.highWatermark > s.position && now - s.progressAt > this.stallAfterMs) {
        const reason = `no message completed for ${now - s.progressAt} ms with ${s.highWatermark - s.position} waiting`;
        problems.push({ state: 'stalled', ...at, offset: s.position.toString(), cause: 'no-progress', reason, since: iso(s.progressAt) });
      }
    }
    return { groupId: this.groupId, ok: problems.length === 0, problems, partitions: this.positions() };
  }

  private positions(): PartitionPosition[] {
    return [...this.partitions.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      lag: s.position !== undefined && s.highWatermark !== undefined && s.highWatermark > s.position ? Number(s.highWatermark - s.position) : 0,
    }));
  }
}
