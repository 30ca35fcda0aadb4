import type { Envelope, EventRegistry } from '@grantline/contracts';
import { withConsumerHealth } from '../bus-health';
import { encodeEnvelope, parseRecordValue } from '../consumed-record';
import type { Counters } from '../counters';
import { newCounters } from '../counters';
import type { MessagingLogger } from '../logger';
import { jsonConsoleLogger } from '../logger';
import type {
  BatchReplayOptions,
  BusHealth,
  ConsumerOptions,
  EventPublisher,
  LogIdentity,
  LogRecord,
  MessageBus,
  MessagingMetrics,
  PartitionEnd,
  RawHeader,
  RawLogRecord,
  RawReplayOptions,
  RecordRef,
  ReplayOptions,
  RunningConsumer,
  TopicSpec,
} from '../ports';
import { InMemoryRunningConsumer } from './in-memory-consumer';
import { replayLog } from './in-memory-replay';
import { InMemoryLog } from './in-memory-log';
import type { InMemoryLogOptions, RecordInput, StoredRecord } from './in-memory-log';

export interface InMemoryBusConfig extends InMemoryLogOptions {
  readonly registry: EventRegistry;
  /** The log to share with other buses (another service, a restarted one, a newer release); a new one otherwise. */
  readonly log?: InMemoryLog;
  /** Names the `source` of the dead letters this bus's consumers write. */
  readonly clientId?: string;
  readonly logger?: MessagingLogger;
}

/** A raw record as a foreign (or newer, or broken) producer would write it: any bytes, any partition. */
export interface RawRecord {
  readonly key?: string | null;
  readonly value: string | Buffer | null;
  readonly headers?: readonly RawHeader[];
  readonly partition?: number;
}

const toInput = (event: Envelope): RecordInput => {
  const { key, value, headers } = encodeEnvelope(event);
  return {
    key,
    value: Buffer.from(value, 'utf8'),
    // The order the Kafka producer writes them in (the codec's object order).
    headers: Object.entries(headers).map(([name, header]) => ({ key: name, value: Buffer.from(header, 'utf8') })),
  };
};

const toRawLogRecord = ({ topic, partition, offset, key, value, headers, timestamp }: StoredRecord): RawLogRecord => ({
  topic,
  partition,
  offset: offset.toString(),
  key: key === null ? null : Buffer.from(key, 'utf8'),
  value,
  headers,
  timestamp: new Date(Number(timestamp)).toISOString(),
});

const toLogRecord = ({ topic, partition, offset, key, value, timestamp }: StoredRecord): LogRecord => ({
  topic,
  partition,
  offset: offset.toString(),
  key,
  value,
  timestamp: new Date(Number(timestamp)).toISOString(),
});

/**
 * The MessageBus port on a log in this process, for specs and single-process runs. It keeps Kafka's semantics —
 * keyed partitions, bytes decoded on consume, committed offsets per group, the same batch loop and failure policy
 * as KafkaMessageBus — and the shared behaviour suite (testing/bus-behaviour.suite.ts) holds both to them.
 * Specs also get conveniences: what is on the log, raw records, injected publish failures and latency.
 */
export class InMemoryMessageBus implements MessageBus {
  readonly log: InMemoryLog;
  /** Simulated broker round trip of a publish, so concurrent callers really overlap while one is in flight. */
  latencyMs = 0;
  private failures = 0;
  private readonly registry: EventRegistry;
  private readonly logger: MessagingLogger;
  private readonly consumers = new Set<InMemoryRunningConsumer>();
  private readonly counters: Counters = newCounters();

  readonly publisher: EventPublisher = {
    publish: (topic, events) => this.publish(topic, events),
  };

  constructor(private readonly config: InMemoryBusConfig) {
    this.registry = config.registry;
    this.logger = config.logger ?? jsonConsoleLogger;
    this.log = config.log ?? new InMemoryLog(config);
  }

  get source(): string {
    return `grantline/${this.config.clientId ?? 'in-memory'}`;
  }

  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
  }

  /** Resolves once the records are on the log, as Kafka's acks=all; rejects, writing nothing, on an injected failure. */
  async publish(topic: string, events: readonly Envelope[]): Promise<void> {
    if (events.length === 0) return;
    await this.roundTrip();
    this.log.append([{ topic, records: events.map(toInput) }]);
    this.counters.published += events.length;
  }

  /** Makes the next `times` writes (publishes, a consumer's outputs) fail, as an unreachable broker would. */
  failNextPublish(times = 1): void {
    this.failures = times;
  }

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    for (const { topic, partitions } of topics) this.log.ensureTopic(topic, partitions);
    return Promise.resolve();
  }

  async listTopics(): Promise<string[]> {
    return this.log.topicNames();
  }

  async consume(options: ConsumerOptions): Promise<RunningConsumer> {
    const consumer = new InMemoryRunningConsumer(
      {
        log: this.log,
        registry: this.registry,
        logger: this.logger,
        counters: this.counters,
        source: this.source,
        publish: (topic, events) => this.publish(topic, events),
        transact: (outputs, commitOffset) => this.transact(outputs, commitOffset),
      },
      options,
    );
    consumer.start();
    this.consumers.add(consumer);
    consumer.onStop(() => this.consumers.delete(consumer));
    return consumer;
  }

  /** Decodes with this bus's registry, from the beginning to the ends at call time; undecodable records go to onInvalid. */
  replay(options: ReplayOptions): Promise<number> {
    return replayLog(this.log, this.registry, options);
  }

  /** As `replay`, each partition's records in chunks of at most 500, partition after partition. */
  replayBatches(options: BatchReplayOptions): Promise<number> {
    return replayLog(this.log, this.registry, options);
  }

  /** Every record as bytes, partition by partition in chunks of at most 500, from `from` (default 0) to the ends at call time. */
  async replayRaw(options: RawReplayOptions): Promise<number> {
    let handled = 0;
    for (const topic of options.topics.filter((name) => this.log.topicNames().includes(name))) {
      const ends = this.log.ends(topic);
      for (const [partition, end] of ends.entries()) {
        const asked = options.from?.[topic]?.[partition];
        for (let next = asked === undefined ? 0n : BigInt(asked); next < end;) {
          const chunk = this.log.read(topic, partition, next, Number(end - next < 500n ? end - next : 500n));
          if (chunk.length === 0) break;
          await options.batchHandler(chunk.map(toRawLogRecord), { topic, partition });
          handled += chunk.length;
          next += BigInt(chunk.length);
        }
      }
    }
    return handled;
  }

  async endOffsets(topics: readonly string[]): Promise<PartitionEnd[]> {
    return topics
      .filter((topic) => this.log.topicNames().includes(topic))
      .flatMap((topic) => this.log.ends(topic).map((end, partition) => ({ topic, partition, end: end.toString() })));
  }

  async readRecords(refs: readonly RecordRef[]): Promise<(LogRecord | undefined)[]> {
    return refs.map((ref) => {
      const stored = /^\d{1,19}$/.test(ref.offset) ? this.log.record(ref.topic, ref.partition, BigInt(ref.offset)) : undefined;
      return stored && toLogRecord(stored);
    });
  }

  /** Always reachable: only its consumers' problems (halted, stalled) make it unhealthy. */
  async health(): Promise<BusHealth> {
    return withConsumerHealth(
      { ok: true, brokers: 1 },
      [...this.consumers].map((consumer) => consumer.health()),
    );
  }

  async logIdentity(): Promise<LogIdentity> {
    return { clusterId: `in-memory-${this.log.id}` };
  }

  metrics(): MessagingMetrics {
    return { ...this.counters };
  }

  /** Puts events on the topics the registry names for them, as other services wrote them (no latency, no failure). */
  append(...events: readonly Envelope[]): void {
    this.log.append(events.map((event) => ({ topic: this.registry.definitionOf(event.type).topic, records: [toInput(event)] })));
  }

  /** Writes a record as given: bytes that are not JSON, an event of a type only a newer release knows. */
  appendRaw(topic: string, ...records: readonly RawRecord[]): RecordRef[] {
    const inputs = records.map(({ key = null, value, headers = [], partition }) => ({
      key,
      value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      headers,
      ...(partition === undefined ? {} : { partition }),
    }));
    return this.log.append([{ topic, records: inputs }]).map(({ partition, offset }) => ({ topic, partition, offset: offset.toString() }));
  }

  /** The events on a topic (every topic by default) in arrival order, as a consumer decodes them; unreadable records left out. */
  events(topic?: string): Envelope[] {
    return this.log.all(topic === undefined ? undefined : [topic]).flatMap((record) => {
      try {
        return [this.registry.decode(parseRecordValue(record.value))];
      } catch {
        return [];
      }
    });
  }

  /** The events of one type (after upcasting), on whatever topic. */
  ofType(type: string): Envelope[] {
    return this.events().filter((event) => event.type === type);
  }

  /** Records on a topic (every topic by default), whatever their bytes. */
  size(topic?: string): number {
    return this.log.all(topic === undefined ? undefined : [topic]).length;
  }

  /** The records of a topic as they are on the log, undecoded. */
  records(topic?: string): LogRecord[] {
    return this.log.all(topic === undefined ? undefined : [topic]).map(toLogRecord);
  }

  /** A group's committed offset per partition of a topic (absent: nothing committed). */
  committedOffsets(groupId: string, topic: string): Map<number, string> {
    const offsets = new Map<number, string>();
    this.log.ends(topic).forEach((_, partition) => {
      const committed = this.log.committedOffset(groupId, topic, partition);
      if (committed !== undefined) offsets.set(partition, committed.toString());
    });
    return offsets;
  }

  /** Outputs and the consumed offset land together or not at all: nothing else runs between the checks and the writes. */
  private async transact(outputs: ReadonlyMap<string, readonly Envelope[]>, commitOffset: () => void): Promise<void> {
    const writes = [...outputs].filter(([, events]) => events.length > 0);
    if (writes.length > 0) await this.roundTrip();
    this.log.append(writes.map(([topic, events]) => ({ topic, records: events.map(toInput) })));
    commitOffset();
    for (const [, events] of writes) this.counters.published += events.length;
  }

  /** The pause of a broker round trip, then an injected failure if one is due. */
  private async roundTrip(): Promise<void> {
    await new Promise((resolve) => (this.latencyMs > 0 ? setTimeout(resolve, this.latencyMs) : setImmediate(resolve)));
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker unavailable (simulated)');
    }
  }
}
