import type { Envelope, EventRegistry } from '@grantline/contracts';
import type { BusHealth, ConsumerOptions, LogIdentity, MessageBus, MessagingMetrics, ReplayOptions, RunningConsumer } from '@grantline/messaging';

/**
 * A one-partition-per-topic log in memory, for unit specs of code that publishes and replays through the
 * bus port. Events round-trip through JSON and the registry, as they would through Kafka.
 */
export class InMemoryLogBus implements MessageBus {
  private readonly log = new Map<string, string[]>();

  readonly publisher = {
    publish: async (topic: string, events: readonly Envelope[]): Promise<void> => {
      const records = this.log.get(topic) ?? [];
      records.push(...events.map((event) => JSON.stringify(event)));
      this.log.set(topic, records);
    },
  };

  constructor(private readonly registry: EventRegistry) {}

  /** Appends events to the topic the registry routes them to. */
  async append(...events: readonly Envelope[]): Promise<void> {
    for (const event of events) await this.publisher.publish(this.registry.definitionOf(event.type).topic, [event]);
  }

  /** What is on a topic, decoded (specs read what a service wrote). */
  events(topic: string): Envelope[] {
    return (this.log.get(topic) ?? []).map((record) => this.registry.decode(JSON.parse(record)));
  }

  size(topic: string): number {
    return this.log.get(topic)?.length ?? 0;
  }

  async replay(options: ReplayOptions): Promise<number> {
    let handled = 0;
    for (const topic of options.topics) {
      const records = [...(this.log.get(topic) ?? [])];
      for (const [offset, record] of records.entries()) {
        const origin = { topic, partition: 0, offset: String(offset) };
        let event: Envelope;
        try {
          event = this.registry.decode(JSON.parse(record));
        } catch (error) {
          options.onInvalid?.(error, origin);
          continue;
        }
        await options.handler(event, { ...origin, key: event.subject });
        handled += 1;
      }
    }
    return handled;
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async ensureTopics(): Promise<void> {}

  consume(_options: ConsumerOptions): Promise<RunningConsumer> {
    return Promise.reject(new Error('InMemoryLogBus does not run consumers; call the handler directly'));
  }

  async logIdentity(): Promise<LogIdentity> {
    return { clusterId: 'in-memory' };
  }

  async health(): Promise<BusHealth> {
    return { ok: true, brokers: 1 };
  }

  metrics(): MessagingMetrics {
    return { published: 0, consumed: 0, handled: 0, retried: 0, deadLettered: 0, halted: 0, duplicatesDropped: 0, commitFailures: 0 };
  }
}
