import type { Envelope } from '@grantline/contracts';
import { toAuditEvent } from '../projections/projection';
import type { Projection } from '../projections/projection';
import { checkpointIdOf, offsetNumber } from '../persistence/read-model.store';
import type { LogPosition, ReadModelStore } from '../persistence/read-model.store';

export interface ProjectOutcome {
  /** Projections whose documents changed. */
  readonly applied: number;
  /** Projections that had already stored this position (a redelivery). */
  readonly skipped: number;
}

/**
 * Feeds one event into every projection that reads it: skip when the projection's checkpoint for this
 * partition is at or past the offset, otherwise write the documents, then the checkpoint. A crash between
 * the two re-delivers the event, which the documents' applied-event ids turn into a no-op.
 */
export class AuditProjector {
  /** Checkpoints read once, then kept in step with what this process writes. */
  private readonly checkpoints = new Map<string, number | undefined>();

  constructor(private readonly store: ReadModelStore) {}

  get projections(): readonly Projection[] {
    return this.store.projections;
  }

  async project(envelope: Envelope, position: LogPosition): Promise<ProjectOutcome> {
    const event = toAuditEvent(envelope);
    if (event === undefined) return { applied: 0, skipped: 0 };
    const offset = offsetNumber(position.offset);
    let applied = 0;
    let skipped = 0;
    for (const projection of this.store.projections) {
      // Checkpoints only move for events a projection reads; ignored events may be re-read, never skipped unseen.
      if (!projection.handles.includes(event.type)) continue;
      const key = checkpointIdOf(projection, position.topic, position.partition);
      if (!this.checkpoints.has(key)) this.checkpoints.set(key, await this.store.checkpointOf(projection, position.topic, position.partition));
      const checkpoint = this.checkpoints.get(key);
      if (checkpoint !== undefined && offset <= checkpoint) {
        skipped += 1;
        continue;
      }
      let changed = false;
      for (const id of projection.documentIdsOf(event)) changed = (await this.store.apply(projection, id, event)) || changed;
      await this.store.saveCheckpoint(projection, position);
      this.checkpoints.set(key, Math.max(offset, checkpoint ?? -1));
      if (changed) applied += 1;
    }
    return { applied, skipped };
  }

  /** Forget cached checkpoints (after the database was dropped under a running process). */
  reset(): void {
    this.checkpoints.clear();
  }
}
