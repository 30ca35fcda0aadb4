import type { Envelope, EventRegistry } from '@grantline/contracts';
import type { DeadLetterErrorClass } from '@grantline/contracts';
import type { ConsumedRecord } from './consumed-record';
import { parseRecordValue } from './consumed-record';
import type { ConsumerHealthTracker } from './consumer-health';
import type { Counters } from './counters';
import { buildDeadLetter, safeReason } from './dead-letter';
import { classifyError, describeError } from './errors';
import { decideOnDecodeFailure, decideOnHandlerFailure } from './failure-policy';
import type { MessagingLogger } from './logger';
import type {
  BatchConsumerOptions,
  BatchContext,
  ConsumerSettings,
  EventConsumerOptions,
  HandlerOutput,
  MessageContext,
  MessagingObserver,
  RetryPolicy,
} from './ports';
import { INTERRUPTED, retryForever } from './retry-policy';
import { inConsumerSpan, stampOutputs, stampOutputsByCause } from './tracing';
import type { TraceHeaders } from './tracing';
import type { Interrupted } from './retry-policy';

/** What became of one record; the runner commits past it for every outcome but `halt` and `interrupted`. */
export type MessageOutcome =
  /** The handler succeeded; `eventId` is remembered by the dedup store once committed. */
  | { readonly kind: 'handled'; readonly outputs: readonly HandlerOutput[]; readonly eventId: string }
  /** A duplicate (no outputs) or a poison record (its dead-letter record as the output). */
  | { readonly kind: 'skipped'; readonly outputs: readonly HandlerOutput[] }
  /** This service cannot read it but a newer one can: stay at this offset. */
  | { readonly kind: 'halt'; readonly eventType: string; readonly reason: string }
  /** The consumer stopped or lost the partition while retrying: leave the record for the next owner. */
  | { readonly kind: 'interrupted' };

/** Whether a record goes on to the handler: decoded and not a duplicate, or skipped (poison, duplicate), or halting. */
export type Admission = { readonly kind: 'admitted'; readonly event: Envelope } | Extract<MessageOutcome, { readonly kind: 'skipped' | 'halt' }>;

/** A consumer's handler: one event at a time, or a partition batch at once. */
export type ConsumerHandlers = Pick<EventConsumerOptions, 'handler'> | Pick<BatchConsumerOptions, 'batchHandler'>;

export function takesBatches(options: ConsumerHandlers): options is Pick<BatchConsumerOptions, 'batchHandler'> {
  return 'batchHandler' in options && typeof options.batchHandler === 'function';
}

/** The events of one batch admitted to the batch handler, with the records they were read from. */
export interface AdmittedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly events: readonly Envelope[];
  readonly records: readonly ConsumedRecord[];
}

export interface MessageHandlerDeps {
  readonly registry: EventRegistry;
  readonly options: Pick<ConsumerSettings, 'groupId' | 'dedup'> & ConsumerHandlers;
  readonly deadLetterTopic: string;
  readonly retry: RetryPolicy;
  /** `source` of the dead-letter records this consumer writes. */
  readonly source: string;
  readonly logger: MessagingLogger;
  readonly counters: Counters;
  readonly health: ConsumerHealthTracker;
  /** Told how long each successful handler call took. */
  readonly observer?: MessagingObserver;
  /** Injected by unit specs; real timers otherwise. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What the runner lends the handler for one batch. */
export interface BatchScope {
  readonly heartbeat: () => Promise<void>;
  /** Aborted when the consumer stops or must give the partition up. */
  readonly signal: AbortSignal;
  /** Ids handled earlier in this batch, not yet in the dedup store (it learns them only after the commit). */
  readonly handledInBatch: readonly string[];
}

/**
 * One record, start to end: decode and validate → poison or halt decision → dedup → the handler, retried until it
 * succeeds; or, for a batch handler, the records admitted one by one and then handed over together, the batch
 * retried as a whole. Knows nothing of Kafka: the runner hands it records and acts on the outcome.
 */
export class MessageHandler {
  constructor(private readonly deps: MessageHandlerDeps) {}

  async handle(record: ConsumedRecord, scope: BatchScope): Promise<MessageOutcome> {
    const admission = await this.admit(record, scope);
    if (admission.kind !== 'admitted') return admission;
    const { event } = admission;
    const { origin } = record;
    const options = this.deps.options;
    if (takesBatches(options)) throw new Error(`${options.groupId} takes batches: its records go through handleBatch`);
    const startedAt = performance.now();
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': origin.topic,
      'messaging.consumer.group.name': options.groupId,
      'messaging.message.id': event.id,
      'grantline.event.type': event.type,
    };
    const produced = await inConsumerSpan(`process ${event.type}`, record.traceHeaders, attributes, async () => {
      const outputs = await retryForever(
        async (attempt) => {
          const context: MessageContext = { ...origin, groupId: options.groupId, attempt, heartbeat: scope.heartbeat };
          return (await options.handler(event, context)) ?? [];
        },
        {
          policy: this.deps.retry,
          signal: scope.signal,
          onFailure: (error, attempt, delayMs) => this.onHandlerFailure(record, event, error, attempt, delayMs),
          ...(this.deps.wait ? { wait: this.deps.wait } : {}),
        },
      );
      // The runner sends these after the span ended: they carry this span's trace.
      if (outputs !== INTERRUPTED) stampOutputs(outputs);
      return outputs;
    });
    // Interrupted, the record stays failing: if this member keeps the partition, the failure clock keeps running.
    if (produced === INTERRUPTED) return { kind: 'interrupted' };
    this.deps.health.recovered(origin.topic, origin.partition);
    this.deps.counters.handled += 1;
    this.observe(origin.topic, 1, startedAt);
    return { kind: 'handled', outputs: produced, eventId: event.id };
  }

  /**
   * Decode and validate → poison or halt decision → dedup: what happens to a record before any handler sees it.
   * Poison yields its dead-letter record as the output; nothing here is retried.
   */
  async admit(record: ConsumedRecord, scope: Pick<BatchScope, 'handledInBatch'>): Promise<Admission> {
    const { origin } = record;
    let raw: unknown;
    let event: Envelope;
    try {
      raw = parseRecordValue(record.value);
      event = this.deps.registry.decode(raw);
    } catch (error) {
      const decision = decideOnDecodeFailure(error, origin.topic, raw);
      if (decision.action === 'halt') return { kind: 'halt', eventType: decision.eventType, reason: decision.reason };
      return { kind: 'skipped', outputs: this.deadLetter(record, { reason: decision.reason, errorClass: decision.errorClass, error, raw }) };
    }

    const { dedup, groupId } = this.deps.options;
    if (dedup && (scope.handledInBatch.includes(event.id) || (await dedup.seen(groupId, event.id)))) {
      this.deps.counters.duplicatesDropped += 1;
      return { kind: 'skipped', outputs: [] };
    }
    return { kind: 'admitted', event };
  }

  /**
   * The batch handler with the admitted events of one batch, retried as a whole until it succeeds: the same fail
   * closed rule as for one event, with the batch's first offset as where the partition stands.
   */
  async handleBatch(batch: AdmittedBatch, scope: BatchScope): Promise<readonly HandlerOutput[] | Interrupted> {
    const options = this.deps.options;
    if (!takesBatches(options)) throw new Error(`${options.groupId} takes one event at a time: its records go through handle`);
    const offsets = batch.records.map((record) => record.origin.offset);
    const keys = batch.records.map((record) => record.origin.key);
    const causes = new Map<string, TraceHeaders | undefined>(batch.events.map((event, index) => [event.id, batch.records[index]?.traceHeaders]));
    const startedAt = performance.now();
    const produced = await retryForever(
      async (attempt) => {
        const context: BatchContext = {
          topic: batch.topic,
          partition: batch.partition,
          offsets,
          keys,
          groupId: options.groupId,
          attempt,
          heartbeat: scope.heartbeat,
        };
        return (await options.batchHandler(batch.events, context)) ?? [];
      },
      {
        policy: this.deps.retry,
        signal: scope.signal,
        onFailure: (error, attempt, delayMs) => this.onBatchFailure(batch, error, attempt, delayMs),
        ...(this.deps.wait ? { wait: this.deps.wait } : {}),
      },
    );
    if (produced === INTERRUPTED) return INTERRUPTED;
    stampOutputsByCause(produced, causes);
    this.deps.health.recovered(batch.topic, batch.partition);
    this.deps.counters.handled += batch.events.length;
    this.observe(batch.topic, batch.events.length, startedAt);
    return produced;
  }

  private observe(topic: string, events: number, startedAt: number): void {
    this.deps.observer?.handled({ groupId: this.deps.options.groupId, topic, events, seconds: (performance.now() - startedAt) / 1000 });
  }

  private onHandlerFailure(record: ConsumedRecord, event: Envelope, error: unknown, attempt: number, delayMs: number): void {
    this.reportFailure(record.origin, { eventType: event.type, eventId: event.id }, error, attempt, delayMs);
  }

  private onBatchFailure(batch: AdmittedBatch, error: unknown, attempt: number, delayMs: number): void {
    const first = batch.records[0]!.origin;
    const last = batch.records[batch.records.length - 1]!.origin;
    this.reportFailure(first, { lastOffset: last.offset, events: batch.events.length }, error, attempt, delayMs);
  }

  private reportFailure(origin: ConsumedRecord['origin'], about: Record<string, unknown>, error: unknown, attempt: number, delayMs: number): void {
    const described = describeError(error);
    this.deps.counters.retried += 1;
    this.deps.health.failing(origin.topic, origin.partition, origin.offset, attempt, described);
    const decision = decideOnHandlerFailure(error);
    const fields = {
      groupId: this.deps.options.groupId,
      ...origin,
      ...about,
      attempt,
      delayMs,
      errorClass: classifyError(error),
      error: described,
    };
    if (decision.level === 'error') this.deps.logger.error('handler failed with a terminal error; retrying, never skipping (fail closed)', fields);
    else this.deps.logger.warn('handler failed, retrying', fields);
  }

  /** The dead letter refers to the record (never a copy of it: it may carry the secret it was refused for). */
  private deadLetter(record: ConsumedRecord, refusal: { reason: string; errorClass: DeadLetterErrorClass; error: unknown; raw: unknown }): HandlerOutput[] {
    const { origin } = record;
    const { groupId } = this.deps.options;
    const { errorClass, error, raw } = refusal;
    const reason = safeReason(refusal.reason, raw);
    this.deps.counters.deadLettered += 1;
    this.deps.logger.warn('message dead-lettered', { groupId, ...origin, reason, errorClass, attempts: 1 });
    const dead = buildDeadLetter(this.deps.registry, {
      origin,
      ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
      consumerGroup: groupId,
      reason,
      errorClass,
      attempts: 1,
      value: record.value,
      error,
      raw,
      failedAt: new Date(),
      source: this.deps.source,
    });
    return [{ topic: this.deps.deadLetterTopic, events: [dead] }];
  }
}
