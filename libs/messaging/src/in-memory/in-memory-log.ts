import { randomUUID } from 'node:crypto';
import type { RawHeader } from '../ports';
import { partitionForKey } from './partitioner';

/** A record as the log keeps it: the bytes a producer wrote, where they landed and when. */
export interface StoredRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** In the order the producer wrote them. */
  readonly headers: readonly RawHeader[];
  /** Ms since the epoch, as Kafka gives a record's timestamp. */
  readonly timestamp: string;
  /** Arrival order across the whole log: one valid interleaving of the partitions, kept for specs and replays. */
  readonly sequence: number;
}

/** What a producer hands the log: a key to partition by, or an explicit partition, and the bytes. */
export interface RecordInput {
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers?: readonly RawHeader[];
  readonly partition?: number;
}

export interface InMemoryLogOptions {
  /** Partitions of a topic created without a count (by ensureTopics or on first use). Default 1. */
  readonly defaultPartitions?: number;
  /** Create a topic on its first use, as a broker with auto.create.topics.enable would. Default true. */
  readonly autoCreateTopics?: boolean;
  /** Largest record accepted, as the broker's message.max.bytes (Kafka's default, 1 MiB plus its overhead). */
  readonly maxRecordBytes?: number;
}

/** A member of a consumer group, told when the group's partitions become its own. */
export interface GroupMember {
  takeOver(): void;
}

const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * The log several in-memory buses may share, as services share a cluster: topics of ordered partitions, each
 * group's committed offsets, and which member of a group owns its partitions. Records are kept as bytes so every
 * reader decodes (and upcasts) them with its own registry, like a Kafka consumer.
 */
export class InMemoryLog {
  readonly id = randomUUID();
  private readonly topics = new Map<string, StoredRecord[][]>();
  private readonly committed = new Map<string, Map<string, bigint>>();
  private readonly members = new Map<string, GroupMember[]>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly roundRobin = new Map<string, number>();
  private sequence = 0;
  private readonly defaultPartitions: number;
  private readonly autoCreateTopics: boolean;
  private readonly maxRecordBytes: number;

  constructor(options: InMemoryLogOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.autoCreateTopics = options.autoCreateTopics ?? true;
    this.maxRecordBytes = options.maxRecordBytes ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Creates the topic when missing; an existing topic keeps its partitions, as on Kafka. */
  ensureTopic(topic: string, partitions = this.defaultPartitions): void {
    if (this.topics.has(topic)) return;
    if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`invalid partition count for ${topic}: ${partitions}`);
    this.topics.set(
      topic,
      Array.from({ length: partitions }, () => []),
    );
  }

  topicNames(): string[] {
    return [...this.topics.keys()].sort();
  }

  partitionCount(topic: string): number {
    return this.partitionsOf(topic).length;
  }

  /**
   * Appends to several topics as one write: every record is checked before any lands, so a refused record (too
   * large, an unknown partition) leaves the log as it was — what a transaction's abort leaves on Kafka.
   */
  append(writes: readonly { readonly topic: string; readonly records: readonly RecordInput[] }[]): StoredRecord[] {
    const placed = writes.flatMap(({ topic, records }) => {
      const partitions = this.partitionsOf(topic);
      return records.map((record) => {
        const size = (record.value?.length ?? 0) + Buffer.byteLength(record.key ?? '');
        if (size > this.maxRecordBytes) {
          throw new Error(
            `The request included a message larger than the max message size the server will accept (${size} > ${this.maxRecordBytes} bytes on ${topic})`,
          );
        }
        const partition = record.partition ?? this.partitionFor(topic, record.key, partitions.length);
        if (!Number.isInteger(partition) || partition < 0 || partition >= partitions.length) {
          throw new Error(`This server does not host this topic-partition: ${topic}/${partition}`);
        }
        return { topic, partition, record };
      });
    });
    const timestamp = String(Date.now());
    const stored = placed.map(({ topic, partition, record }) => {
      const records = this.partitionsOf(topic)[partition]!;
      const entry: StoredRecord = {
        topic,
        partition,
        offset: BigInt(records.length),
        key: record.key,
        value: record.value,
        headers: record.headers ?? [],
        timestamp,
        sequence: this.sequence++,
      };
      records.push(entry);
      return entry;
    });
    for (const { topic, partition } of stored) this.wake(topic, partition);
    return stored;
  }

  /** The end of each partition: the offset its next record will get. */
  ends(topic: string): bigint[] {
    return this.partitionsOf(topic).map((records) => BigInt(records.length));
  }

  read(topic: string, partition: number, from: bigint, max: number): StoredRecord[] {
    const records = this.partitionsOf(topic)[partition] ?? [];
    return records.slice(Number(from), Number(from) + max);
  }

  record(topic: string, partition: number, offset: bigint): StoredRecord | undefined {
    return this.topics.get(topic)?.[partition]?.[Number(offset)];
  }

  /** The records of the given topics (all by default) in arrival order; a topic that does not exist holds none. */
  all(topics?: readonly string[]): StoredRecord[] {
    const names = topics ?? [...this.topics.keys()];
    return names.flatMap((topic) => this.topics.get(topic)?.flat() ?? []).sort((a, b) => a.sequence - b.sequence);
  }

  committedOffset(groupId: string, topic: string, partition: number): bigint | undefined {
    return this.committed.get(groupId)?.get(`${topic}/${partition}`);
  }

  commit(groupId: string, topic: string, partition: number, next: bigint): void {
    const offsets = this.committed.get(groupId) ?? new Map<string, bigint>();
    offsets.set(`${topic}/${partition}`, next);
    this.committed.set(groupId, offsets);
  }

  /** Resolves once the partition holds a record at `position`, or when `signal` aborts. */
  whenAppended(topic: string, partition: number, position: bigint, signal: AbortSignal): Promise<void> {
    if (signal.aborted || BigInt(this.partitionsOf(topic)[partition]?.length ?? 0) > position) return Promise.resolve();
    const key = `${topic}/${partition}`;
    return new Promise((resolve) => {
      const waiters = this.waiters.get(key) ?? new Set<() => void>();
      this.waiters.set(key, waiters);
      const done = (): void => {
        waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Joins a group. Its partitions all go to its oldest running member; the others stand by and take over, from the
   * committed offsets, when it leaves — a rebalance without splitting partitions. Returns whether `member` owns them.
   */
  join(groupId: string, member: GroupMember): boolean {
    const members = this.members.get(groupId) ?? [];
    members.push(member);
    this.members.set(groupId, members);
    return members[0] === member;
  }

  leave(groupId: string, member: GroupMember): void {
    const members = this.members.get(groupId) ?? [];
    const owned = members[0] === member;
    const rest = members.filter((m) => m !== member);
    this.members.set(groupId, rest);
    if (owned) rest[0]?.takeOver();
  }

  private partitionsOf(topic: string): StoredRecord[][] {
    if (!this.topics.has(topic)) {
      if (!this.autoCreateTopics) throw new Error(`This server does not host this topic-partition: ${topic} does not exist`);
      this.ensureTopic(topic);
    }
    return this.topics.get(topic)!;
  }

  /** Kafka's default partitioner: by key (murmur2), round robin without one. */
  private partitionFor(topic: string, key: string | null, partitions: number): number {
    if (key !== null) return partitionForKey(key, partitions);
    const next = (this.roundRobin.get(topic) ?? 0) + 1;
    this.roundRobin.set(topic, next);
    return next % partitions;
  }

  private wake(topic: string, partition: number): void {
    for (const waiter of [...(this.waiters.get(`${topic}/${partition}`) ?? [])]) waiter();
  }
}
