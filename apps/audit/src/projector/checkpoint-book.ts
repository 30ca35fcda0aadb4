import type { Projection } from '../projections/projection';
import { checkpointIdOf } from '../persistence/read-model.store';
import type { CheckpointWrite, LogPosition, ReadModelStore } from '../persistence/read-model.store';

/**
 * Each projection's checkpoint per partition: what is stored (read once), and what folded events moved it to that
 * is not stored yet. Skipping goes by the furthest of the two: a fold already holds the effects of what it passed.
 */
export class CheckpointBook {
  /** Read from the store; undefined: none stored. */
  private readonly stored = new Map<string, number | undefined>();
  private readonly pending = new Map<string, CheckpointWrite>();

  constructor(private readonly store: ReadModelStore) {}

  /** Reads the checkpoints of `ids` not read yet, with one query. */
  async ensure(ids: Iterable<string>): Promise<void> {
    const unknown = [...new Set(ids)].filter((id) => !this.stored.has(id));
    if (unknown.length === 0) return;
    const found = await this.store.checkpointsOf(unknown);
    for (const id of unknown) this.stored.set(id, found.get(id));
  }

  /** Whether this projection already holds the effects of the event at `offset` of this partition. */
  passed(id: string, offset: number): boolean {
    const furthest = Math.max(this.stored.get(id) ?? -1, this.pending.get(id)?.offset ?? -1);
    return offset <= furthest;
  }

  advance(projection: Projection, position: LogPosition, offset: number): void {
    const id = checkpointIdOf(projection, position.topic, position.partition);
    if ((this.pending.get(id)?.offset ?? -1) >= offset) return;
    this.pending.set(id, { projection, topic: position.topic, partition: position.partition, offset });
  }

  /** Stores the pending checkpoints in one round trip; called only once the documents they vouch for are written. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const writes = [...this.pending.values()];
    await this.store.saveCheckpoints(writes);
    for (const write of writes) {
      const id = checkpointIdOf(write.projection, write.topic, write.partition);
      this.stored.set(id, Math.max(this.stored.get(id) ?? -1, write.offset));
      if (this.pending.get(id) === write) this.pending.delete(id);
    }
  }

  reset(): void {
    this.stored.clear();
    this.pending.clear();
  }
}
