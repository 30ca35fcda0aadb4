import { Server } from '@nestjs/microservices';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { CONNECTOR_ID_PLACEHOLDER, connectorIdOfTopic, connectorCommandsTopic, connectorResultsTopic, topicOf } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import type { HandlerOutput, MessageBus, MessageContext, RetryPolicy, RunningConsumer } from '@grantline/messaging';

export interface KafkaEventTransportOptions {
  readonly bus: MessageBus;
  readonly registry: EventRegistry;
  /** One consumer group per service; instances of the service share it. */
  readonly groupId: string;
  readonly transactional?: boolean;
  readonly retry?: Partial<RetryPolicy>;
  readonly partitionsConsumedConcurrently?: number;
  readonly fromBeginning?: boolean;
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

function isHandlerOutput(value: Envelope | HandlerOutput): value is HandlerOutput {
  return 'events' in value && 'topic' in value && !('specversion' in value);
}

/**
 * Custom transport strategy for @nestjs/microservices: services declare
 * `@EventPattern('iga.request.submitted.v2')` and never see kafkajs. Patterns are event types
 * (latest version; older versions are upcast before dispatch); the topics to consume are derived
 * from the contracts catalogue.
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
    this.consumer = await this.options.bus.consume({
      groupId: this.options.groupId,
      topics,
      ...(this.options.transactional !== undefined ? { transactional: this.options.transactional } : {}),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.fromBeginning !== undefined ? { fromBeginning: this.options.fromBeginning } : {}),
      ...(this.options.partitionsConsumedConcurrently
        ? { partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently }
        : {}),
      handler: (event, context) => this.dispatch(event, context),
    });
  }

  private async dispatch(event: Envelope, context: MessageContext): Promise<readonly HandlerOutput[]> {
    const handler = this.getHandlerByPattern(event.type);
    // Topics carry several event types; a service handles the ones it declared and skips the rest.
    if (!handler) return [];
    const result: unknown = await lastValueFrom(
      this.transformToObservable(await handler(event, new KafkaEventContext(context))),
      { defaultValue: undefined },
    );
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
