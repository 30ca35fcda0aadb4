import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';

/** Reads what really is on the log (not what a service's read model says), through the platform's own transport. */
export class EventLogReader {
  private constructor(private readonly bus: KafkaMessageBus) {}

  static async connect(runId: string): Promise<EventLogReader> {
    const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').map((broker) => broker.trim()).filter(Boolean);
    if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: e2e specs need jest\'s global setup');
    const bus = new KafkaMessageBus({ clientId: `e2e-reader-${runId}`, brokers, registry, logger: silentLogger });
    await bus.connect();
    return new EventLogReader(bus);
  }

  /** Every event on the topics, from the beginning up to their end at call time. */
  async read(topics: readonly string[]): Promise<Envelope[]> {
    const events: Envelope[] = [];
    await this.bus.replay({ topics, handler: async (event) => void events.push(event) });
    return events;
  }

  /** Every event on every catalogued topic whose actor is the given identity. */
  async byActor(actorId: string, topics: readonly string[] = Object.values(TOPICS)): Promise<Envelope[]> {
    return (await this.read(topics)).filter((event) => event.actor.id === actorId);
  }

  async close(): Promise<void> {
    await this.bus.disconnect();
  }
}
