import { EventPattern, Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { CONNECTOR_ID_PLACEHOLDER, connectorIdOfTopic, connectorCommandsTopic, connectorResultsTopic, topicOf } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import type { BatchContext, HandlerOutput, MessageBus, MessageContext, RetryPolicy, RunningConsumer } from '@grantline/messaging';

export interface KafkaEventTransportOptions {
  readonly bus: MessageBus;
  readonly registry: EventRegistry;
  /** One consumer group per service; instances of the service share it. */
  readonly groupId: string;
  readonly transactional?: boolean;
  readonly retry?: Partial<RetryPolicy>;
  readonly partitionsConsumedConcurrently?: number;
  readonly fromBeginning?: boolean;
  /** How long a failing or stuck partition may go before readiness reports it stalled (the bus's default if absent). */
  readonly stallAfterMs?: number;
  /**
   * Connector events live on per-connector topics (`iga.connectors.<id>.*`); a service consuming
   * them names the connectors it works with, and each placeholder topic expands to one per id.
   */
  readonly connectorIds?: readonly string[];
}

/** What a handler may return: events (routed to their single-writer topic) or explicit outputs. */
export type EventHandlerResult = void | readonly Envelope[] | readonly HandlerOutput[];

/** Passed to handlers as `@Ctx()`: where the message came from, plus a heartbeat for long work. */
export class KafkaEventContext {
  constructor(readonly message: MessageContext) {}
}

/** Passed to batch handlers as `@Ctx()`: the partition, each event's offset and key (index for index), the attempt. */
export class KafkaEventBatchContext {
  constructor(readonly batch: BatchContext) {}
}

interface BatchExtras {
  readonly batch: true;
}

/**
 * `@EventPattern` for a handler that takes a batch: `@Payload()` is every event of one fetched partition batch it
 * declared, in log order (`Envelope[]`), `@Ctx()` a `KafkaEventBatchContext`. What it returns is published before
 * (or with) the batch's commit; what it throws retries the whole batch.
 */
export function EventBatchPattern(patterns: string | readonly string[]): MethodDecorator {
  // Nest registers one handler function per pattern; the extras object, one per decorated method, is what they share.
  const extras: BatchExtras = { batch: true };
  return EventPattern(patterns, extras);
}

/** The method a batch handler belongs to, or undefined for a per-event handler. */
function batchMethodOf(handler: MessageHandler): BatchExtras | undefined {
  const extras = handler.extras as Partial<BatchExtras> | undefined;
  return extras?.batch === true ? (extras as BatchExtras) : undefined;
}

function isHandlerOutput(value: Envelope | HandlerOutput): value is HandlerOutput {
  return 'events' in value && 'topic' in value && !('specversion' in value);
}

/**
 * Custom transport strategy for @nestjs/microservices: services declare
 * `@EventPattern('iga.request.submitted.v2')` (or `@EventBatchPattern([...])` for a handler that takes a
 * partition batch at once) and never see kafkajs. Patterns are event types (latest version; older versions
 * are upcast before dispatch); the topics to consume are derived from the contracts catalogue.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer: RunningConsumer | undefined;

  constructor(private readonly options: KafkaEventTransportOptions) {
    super();
  }

  on(): never {
    throw new Error('KafkaEventTransport does not expose transport events');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaEventTransport is not listening');
    return this.consumer as T;
  }

  /** Topics derived from the registered patterns; also validates every pattern at start-up. */
  subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const pattern of this.getHandlers().keys()) {
      const def = this.options.registry.definitionOf(pattern);
      const latest = this.options.registry.latestOf(def.name);
      if (latest.type !== def.type) {
        throw new Error(`@EventPattern('${pattern}') names an old version: handlers receive upcast events, use '${latest.type}'`);
      }
      for (const topic of this.concreteTopics(def.topic)) topics.add(topic);
    }
    return [...topics].sort();
  }

  private concreteTopics(topic: string): string[] {
    if (connectorIdOfTopic(topic) !== CONNECTOR_ID_PLACEHOLDER) return [topic];
    const ids = this.options.connectorIds ?? [];
    if (ids.length === 0) {
      throw new Error(`handlers consume ${topic}: name the connectors with the connectorIds option`);
    }
    return ids.map((id) => (topic.endsWith('.commands.v1') ? connectorCommandsTopic(id) : connectorResultsTopic(id)));
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  private async start(): Promise<void> {
    const topics = this.subscribedTopics();
    if (topics.length === 0) return;
    const settings = {
      groupId: this.options.groupId,
      topics,
      ...(this.options.transactional !== undefined ? { transactional: this.options.transactional } : {}),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.fromBeginning !== undefined ? { fromBeginning: this.options.fromBeginning } : {}),
      ...(this.options.partitionsConsumedConcurrently ? { partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently } : {}),
      ...(this.options.stallAfterMs !== undefined ? { stallAfterMs: this.options.stallAfterMs } : {}),
    };
    // One batch handler among the service's handlers makes the consumer take batches; per-event handlers still get
    // their events one by one, in log order with the batch handlers' runs.
    const batched = [...this.getHandlers().values()].some((handler) => batchMethodOf(handler) !== undefined);
    this.consumer = await this.options.bus.consume(
      batched
        ? { ...settings, batchHandler: (events, context) => this.dispatchBatch(events, context) }
        : { ...settings, handler: (event, context) => this.dispatch(event, context) },
    );
  }

  /**
   * A batch in log order: consecutive events of one batch handler go to it together, an event of a per-event handler
   * goes alone, undeclared types are skipped. Outputs are gathered for the batch's commit.
   */
  private async dispatchBatch(events: readonly Envelope[], context: BatchContext): Promise<readonly HandlerOutput[]> {
    const outputs: HandlerOutput[] = [];
    let run: { method: BatchExtras; handler: MessageHandler; indexes: number[] } | undefined;
    const handOver = async (): Promise<void> => {
      if (!run) return;
      const { handler, indexes } = run;
      run = undefined;
      const batch: BatchContext = { ...context, offsets: indexes.map((i) => context.offsets[i]!), keys: indexes.map((i) => context.keys[i] ?? null) };
      const payload = indexes.map((i) => events[i]!);
      outputs.push(...(await this.invoke(handler, payload, new KafkaEventBatchContext(batch))));
    };
    for (const [index, event] of events.entries()) {
      const handler = this.getHandlerByPattern(event.type);
      if (!handler) continue;
      const method = batchMethodOf(handler);
      if (method) {
        if (run?.method !== method) await handOver();
        (run ??= { method, handler, indexes: [] }).indexes.push(index);
        continue;
      }
      await handOver();
      const { offsets, keys, ...rest } = context;
      const message: MessageContext = { ...rest, offset: offsets[index]!, key: keys[index] ?? null };
      outputs.push(...(await this.invoke(handler, event, new KafkaEventContext(message))));
    }
    await handOver();
    return outputs;
  }

  private async dispatch(event: Envelope, context: MessageContext): Promise<readonly HandlerOutput[]> {
    const handler = this.getHandlerByPattern(event.type);
    // Topics carry several event types; a service handles the ones it declared and skips the rest.
    if (!handler) return [];
    return this.invoke(handler, event, new KafkaEventContext(context));
  }

  private async invoke(handler: MessageHandler, payload: unknown, context: KafkaEventContext | KafkaEventBatchContext): Promise<readonly HandlerOutput[]> {
    const result: unknown = await lastValueFrom(this.transformToObservable(await handler(payload, context)), { defaultValue: undefined });
    return this.toOutputs(result as EventHandlerResult);
  }

  private toOutputs(result: EventHandlerResult): readonly HandlerOutput[] {
    if (!result || result.length === 0) return [];
    const byTopic = new Map<string, Envelope[]>();
    const outputs: HandlerOutput[] = [];
    for (const item of result) {
      if (isHandlerOutput(item)) {
        outputs.push(item);
        continue;
      }
      const topic = topicOf(this.options.registry.definitionOf(item.type), item.data);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), item]);
    }
    for (const [topic, events] of byTopic) outputs.push({ topic, events });
    return outputs;
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  /** Test and readiness helper: resolves once this service's group has processed everything so far. */
  async whenCaughtUp(timeoutMs?: number): Promise<void> {
    await this.consumer?.whenCaughtUp(timeoutMs !== undefined ? { timeoutMs } : {});
  }
}
