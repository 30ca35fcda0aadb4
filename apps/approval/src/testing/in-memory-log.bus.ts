import type { Envelope } from '@grantline/contracts';
import type { BusHealth, ConsumerOptions, LogIdentity, MessageBus, MessagingMetrics, ReplayOptions, RunningConsumer } from '@grantline/messaging';

/**
 * A MessageBus for unit specs of the service layer: publishing appends to an in-memory log (after an
 * optional async pause, so concurrent callers interleave as they would against Kafka), replay reads it
 * back. Consuming is not supported: specs call the handlers directly.
 */
export class InMemoryLogBus implements MessageBus {
  readonly log: { topic: string; event: Envelope }[] = [];
  /** Makes the next publish fail once, as an unreachable broker would. */
  failNextPublish = false;
  /** Simulated broker round trip, so concurrent callers really overlap while a publish is in flight. */
  latencyMs = 0;
  private pause(): Promise<void> {
    return new Promise((resolve) => (this.latencyMs > 0 ? setTimeout(resolve, this.latencyMs) : setImmediate(resolve)));
  }

  readonly publisher = {
    publish: async (topic: string, events: readonly Envelope[]): Promise<void> => {
      await this.pause();
      if (this.failNextPublish) {
        this.failNextPublish = false;
        throw new Error('broker unavailable');
      }
      for (const event of events) this.log.push({ topic, event });
    },
  };

  events(type?: string): Envelope[] {
    return this.log.map((entry) => entry.event).filter((event) => type === undefined || event.type === type);
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async ensureTopics(): Promise<void> {}

  consume(_options: ConsumerOptions): Promise<RunningConsumer> {
    return Promise.reject(new Error('InMemoryLogBus does not consume; call the handlers directly'));
  }

  async replay(options: ReplayOptions): Promise<number> {
    const entries = this.log.filter((entry) => options.topics.includes(entry.topic));
    let offset = 0;
    for (const entry of entries) {
      await options.handler(entry.event, { topic: entry.topic, partition: 0, offset: String(offset++), key: entry.event.subject });
    }
    return entries.length;
  }

  async logIdentity(): Promise<LogIdentity> {
    return { clusterId: 'in-memory' };
  }

  async health(): Promise<BusHealth> {
    return { ok: true, brokers: 1 };
  }

  metrics(): MessagingMetrics {
    return { published: this.log.length, consumed: 0, handled: 0, retried: 0, deadLettered: 0, halted: 0, duplicatesDropped: 0, commitFailures: 0 };
  }
}
