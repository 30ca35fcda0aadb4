import type { Envelope } from '@grantline/contracts';
import { backoffDelayMs } from './backoff';
import type { ConsumedRecord } from './consumed-record';
import type { ConsumerHealthTracker } from './consumer-health';
import type { Counters } from './counters';
import { describeError } from './errors';
import type { MessagingLogger } from './logger';
import type { MessageHandler } from './message-handler';
import type { ConsumerOptions, HandlerOutput, RetryPolicy } from './ports';
import { pause } from './retry-policy';

/** Handler outputs gathered per topic, in the order they were returned: what a commit publishes. */
export function outputsByTopic(outputs: readonly HandlerOutput[]): Map<string, Envelope[]> {
  const byTopic = new Map<string, Envelope[]>();
  for (const output of outputs) {
    const list = byTopic.get(output.topic) ?? [];
    list.push(...output.events);
    byTopic.set(output.topic, list);
  }
  return byTopic;
}

/** What one consumer lends its batches; nothing here knows the transport. */
export interface PartitionBatchesDeps {
  readonly messages: MessageHandler;
  readonly tracker: ConsumerHealthTracker;
  readonly counters: Counters;
  readonly logger: MessagingLogger;
  readonly options: Pick<ConsumerOptions, 'groupId' | 'dedup'>;
  readonly retry: RetryPolicy;
  /** Aborted by the consumer's stop(): the pause after a failed commit ends at once. */
  readonly stopping: AbortSignal;
  /** False once the consumer stops: a failed commit is then left for the partition's next owner. */
  readonly running: () => boolean;
}

/** One fetched batch of one partition, with what the transport does for it. */
export interface PartitionBatch {
  /** The logical (catalogue) topic. */
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  readonly heartbeat: () => Promise<void>;
  /** Aborted when the consumer stops or must give the partition up: a handler's retrying ends there. */
  readonly signal: AbortSignal;
  /** Whether to go on with the next record (false once the transport has let go of the partition). */
  readonly proceed: () => boolean;
  /** The fetch position moves past a handled record; only `commit` makes it durable. */
  readonly resolve: (offset: string) => void;
  /** Publishes `outputs`, then commits the offset after `offset` (atomically when transactional); returns that next offset. */
  readonly commit: (offset: string, outputs: readonly HandlerOutput[]) => Promise<bigint>;
  /** Stops fetching the partition: it is halted at a record this service cannot read. */
  readonly pause: () => void;
  /** Moves the fetch position back to `offset`, so records whose commit failed are delivered again. */
  readonly rewind: (offset: string) => void;
}

/**
 * The consumer loop of one batch, the same for every transport: each record goes to the MessageHandler, offsets are
 * committed only after the records' work and outputs are durable, an unknown type halts the partition, and a failed
 * commit rewinds the partition for a redelivery.
 */
export class PartitionBatches {
  constructor(private readonly deps: PartitionBatchesDeps) {}

  async process(batch: PartitionBatch): Promise<void> {
    const { counters, logger, tracker } = this.deps;
    // A batch fetched before the pause took effect: nothing past the halted offset may be handled.
    if (tracker.isHalted(batch.topic, batch.partition)) return;
    const outputs: HandlerOutput[] = [];
    // Ids are remembered as handled only once their outputs and offsets are committed: if the
    // commit fails, the redelivered message must be handled again, not dropped as a duplicate.
    const handledIds: string[] = [];
    let lastProcessed: string | undefined;
    // The first offset whose outputs and commit are not yet durable: where to resume on failure.
    let uncommittedFrom = batch.records[0]?.origin.offset;
    let pendingSince = Date.now();
    const scope = { heartbeat: batch.heartbeat, signal: batch.signal, handledInBatch: handledIds };
    try {
      for (const record of batch.records) {
        if (!batch.proceed() || batch.signal.aborted) break;
        counters.consumed += 1;
        const outcome = await this.deps.messages.handle(record, scope);
        // Stopping mid-retry: leave this message uncommitted so the next owner of the partition redoes it.
        if (outcome.kind === 'interrupted') break;
        if (outcome.kind === 'halt') {
          this.halt(record, outcome.eventType, outcome.reason, batch.pause);
          break;
        }
        outputs.push(...outcome.outputs);
        if (outcome.kind === 'handled' && this.deps.options.dedup) handledIds.push(outcome.eventId);
        lastProcessed = record.origin.offset;
        batch.resolve(lastProcessed);
        // Long batches commit as they go, so a crash re-delivers little.
        if (outputs.length >= 500 || Date.now() - pendingSince > 1_000) {
          await this.commit(batch, lastProcessed, outputs.splice(0));
          await this.rememberHandled(handledIds.splice(0));
          uncommittedFrom = (BigInt(lastProcessed) + 1n).toString();
          pendingSince = Date.now();
        }
      }
      if (lastProcessed !== undefined) {
        await this.commit(batch, lastProcessed, outputs);
        await this.rememberHandled(handledIds);
      }
    } catch (error) {
      if (uncommittedFrom === undefined || !this.deps.running()) throw error;
      // The fetch position already moved past these messages: move it back so they are
      // delivered again, after a pause so a persistent failure does not spin.
      counters.commitFailures += 1;
      logger.error('batch not committed; it will be delivered again', {
        groupId: this.deps.options.groupId,
        topic: batch.topic,
        partition: batch.partition,
        from: uncommittedFrom,
        error: describeError(error),
      });
      batch.rewind(uncommittedFrom);
      await pause(backoffDelayMs(this.deps.retry, Math.min(counters.commitFailures, 6)), this.deps.stopping);
    }
  }

  /**
   * Stops the partition at a record this service cannot read but a newer release can: nothing at or past it is
   * committed, so that release continues from exactly here. The other partitions keep flowing.
   */
  private halt(record: ConsumedRecord, eventType: string, reason: string, pausePartition: () => void): void {
    const { origin } = record;
    this.deps.counters.halted += 1;
    this.deps.tracker.halt(origin.topic, origin.partition, origin.offset, eventType, reason);
    pausePartition();
    this.deps.logger.error('partition halted: event type unknown to this service; not committed, a newer release resumes here', {
      groupId: this.deps.options.groupId,
      topic: origin.topic,
      partition: origin.partition,
      offset: origin.offset,
      eventType,
      reason,
    });
  }

  private async commit(batch: PartitionBatch, offset: string, outputs: readonly HandlerOutput[]): Promise<void> {
    const next = await batch.commit(offset, outputs);
    this.deps.tracker.advanced(batch.topic, batch.partition, next);
  }

  private async rememberHandled(eventIds: readonly string[]): Promise<void> {
    const dedup = this.deps.options.dedup;
    if (!dedup) return;
    for (const id of eventIds) await dedup.remember(this.deps.options.groupId, id);
  }
}
