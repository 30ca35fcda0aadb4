import type { Envelope } from '@grantline/contracts';
import { backoffDelayMs } from './backoff';
import type { ConsumedRecord } from './consumed-record';
import type { ConsumerHealthTracker } from './consumer-health';
import type { Counters } from './counters';
import { describeError } from './errors';
import type { MessagingLogger } from './logger';
import { takesBatches } from './message-handler';
import type { ConsumerHandlers, MessageHandler } from './message-handler';
import type { ConsumerSettings, HandlerOutput, RetryPolicy } from './ports';
import { INTERRUPTED, pause } from './retry-policy';

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
  readonly options: Pick<ConsumerSettings, 'groupId' | 'dedup'> & ConsumerHandlers;
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
 * The consumer loop of one batch, the same for every transport: each record goes to the MessageHandler (or, for a
 * batch handler, the batch goes to it at once), offsets are committed only after the records' work and outputs are
 * durable, an unknown type halts the partition, and a failed commit rewinds the partition for a redelivery.
 */
export class PartitionBatches {
  constructor(private readonly deps: PartitionBatchesDeps) {}

  async process(batch: PartitionBatch): Promise<void> {
    const { counters, tracker } = this.deps;
    // A batch fetched before the pause took effect: nothing past the halted offset may be handled.
    if (tracker.isHalted(batch.topic, batch.partition)) return;
    if (takesBatches(this.deps.options)) return this.processWhole(batch);
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
      await this.redeliver(batch, uncommittedFrom, error);
    }
  }

  /**
   * A batch handler's batch: records are admitted one by one (poison dead-lettered, duplicates dropped) up to the
   * first that halts the partition, then every admitted event goes to the handler at once, retried as a whole until
   * it succeeds; the batch is committed only after it returned. An interrupted retry commits nothing of it.
   */
  private async processWhole(batch: PartitionBatch): Promise<void> {
    const { counters } = this.deps;
    const outputs: HandlerOutput[] = [];
    const events: Envelope[] = [];
    const admitted: ConsumedRecord[] = [];
    const handledIds: string[] = [];
    const scope = { heartbeat: batch.heartbeat, signal: batch.signal, handledInBatch: handledIds };
    let last: string | undefined;
    try {
      for (const record of batch.records) {
        if (!batch.proceed() || batch.signal.aborted) break;
        counters.consumed += 1;
        const admission = await this.deps.messages.admit(record, scope);
        if (admission.kind === 'halt') {
          this.halt(record, admission.eventType, admission.reason, batch.pause);
          break;
        }
        if (admission.kind === 'skipped') outputs.push(...admission.outputs);
        else {
          events.push(admission.event);
          admitted.push(record);
          // Within the batch a second copy is a duplicate at once; the store learns the ids only after the commit.
          if (this.deps.options.dedup) handledIds.push(admission.event.id);
        }
        last = record.origin.offset;
      }
      if (last === undefined) return;
      if (events.length > 0) {
        const produced = await this.deps.messages.handleBatch({ topic: batch.topic, partition: batch.partition, events, records: admitted }, scope);
        if (produced === INTERRUPTED) return;
        outputs.push(...produced);
      }
      batch.resolve(last);
      await this.commit(batch, last, outputs);
      await this.rememberHandled(handledIds);
    } catch (error) {
      await this.redeliver(batch, batch.records[0]?.origin.offset, error);
    }
  }

  /**
   * The fetch position already moved past these records: move it back so they are delivered again, after a pause so
   * a persistent failure does not spin. A stopping consumer leaves them to the partition's next owner.
   */
  private async redeliver(batch: PartitionBatch, uncommittedFrom: string | undefined, error: unknown): Promise<void> {
    const { counters, logger } = this.deps;
    if (uncommittedFrom === undefined || !this.deps.running()) throw error;
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
