import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';

/** An event and its place on the log. */
export interface PositionedEnvelope {
  readonly event: Envelope;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Reads what really is on the log (not what a service's read model says), through the platform's own transport. */
export class EventLogReader {
  private constructor(private readonly bus: KafkaMessageBus) {}

  /** Reads the log of one platform: its namespace on the shared broker. */
  static async connect(platform: { readonly runId: string; readonly namespace: string }): Promise<EventLogReader> {
    const brokers = (process.env['KAFKA_BROKERS'] ?? '')
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean);
    if (brokers.length === 0) throw new Error("KAFKA_BROKERS is not set: e2e specs need jest's global setup");
    const bus = new KafkaMessageBus({ clientId: `e2e-reader-${platform.runId}`, brokers, registry, logger: silentLogger, namespace: platform.namespace });
    await bus.connect();
    return new EventLogReader(bus);
  }

  /**
   * Every event on the topics, from the beginning up to their end at call time. A topic that does not exist in the
   * platform's namespace (no service that writes it was started) holds nothing.
   */
  async read(topics: readonly string[]): Promise<Envelope[]> {
    const existing = new Set(await this.bus.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    const events: Envelope[] = [];
    if (present.length > 0) await this.bus.replay({ topics: present, handler: async (event) => void events.push(event) });
    return events;
  }

  /** As `read`, with where each event is on the log (logical topic, partition, offset): what evidence links point at. */
  async readPositioned(topics: readonly string[]): Promise<PositionedEnvelope[]> {
    const existing = new Set(await this.bus.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    const events: PositionedEnvelope[] = [];
    if (present.length > 0) {
      await this.bus.replay({ topics: present, handler: async (event, { topic, partition, offset }) => void events.push({ event, topic, partition, offset }) });
    }
    return events;
  }

  /**
   * The W3C `traceparent` of every record whose event belongs to the correlation (the request id), read from the
   * records' headers as the log holds them, in log order per partition.
   */
  async traceparents(
    correlationId: string,
    topics?: readonly string[],
  ): Promise<{ readonly topic: string; readonly type: string; readonly traceparent?: string }[]> {
    const existing = new Set(await this.bus.listTopics());
    const present = (topics ?? [...existing]).filter((topic) => existing.has(topic));
    const found: { topic: string; type: string; traceparent?: string }[] = [];
    if (present.length === 0) return found;
    await this.bus.replayRaw({
      topics: present,
      batchHandler: async (records, { topic }) => {
        for (const record of records) {
          let event: { correlationid?: unknown; type?: unknown } | undefined;
          try {
            event = JSON.parse(record.value?.toString('utf8') ?? '') as { correlationid?: unknown; type?: unknown };
          } catch {
            continue;
          }
          if (event?.correlationid !== correlationId) continue;
          const traceparent = record.headers.find((header) => header.key === 'traceparent')?.value?.toString('utf8');
          found.push({ topic, type: String(event.type), ...(traceparent === undefined ? {} : { traceparent }) });
        }
      },
    });
    return found;
  }

  /** Every event whose actor is the given identity, on the given topics or on every topic of the platform. */
  async byActor(actorId: string, topics?: readonly string[]): Promise<Envelope[]> {
    return (await this.read(topics ?? (await this.bus.listTopics()))).filter((event) => event.actor.id === actorId);
  }

  /**
   * Publishes as an upstream system does (an ITSM bridge writing the inbound topic): the topic is the upstream's,
   * so it is created when missing, as the bridge would.
   */
  async publishAsUpstream(topic: string, events: readonly Envelope[]): Promise<void> {
    await this.bus.ensureTopics([{ topic }]);
    await this.bus.publish(topic, events);
  }

  async close(): Promise<void> {
    await this.bus.disconnect();
  }
}
