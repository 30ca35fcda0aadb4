import { kafkaSaslFromEnv } from '@grantline/messaging';
import type { KafkaSaslCredentials } from '@grantline/messaging';

/** One record as the bench produces it: the same bytes for every client. */
export interface BenchRecord {
  readonly key: string;
  readonly value: Buffer;
}

/**
 * Wall time and CPU time (process.cpuUsage: user + system of this process, all its threads) of the part of a phase
 * that is measured. Connecting, creating topics and joining groups outside of it are not charged to the events.
 */
export class Meter {
  private startedAt = 0;
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  wallMs = 0;
  cpuMicros = 0;

  start(): void {
    this.cpuAtStart = process.cpuUsage();
    this.startedAt = performance.now();
  }

  stop(): void {
    this.wallMs += performance.now() - this.startedAt;
    const used = process.cpuUsage(this.cpuAtStart);
    this.cpuMicros += used.user + used.system;
  }
}

/** What every client under test does, each with its own idiomatic API and the settings the services need. */
export interface RawClient {
  readonly name: string;
  /** Creates the topics (3 partitions) and waits until their leaders serve. */
  createTopics(topics: readonly string[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Idempotent producer, acks=all, batches of `batchSize` awaited one after the other (B1's produce phase). */
  produce(topic: string, records: readonly BenchRecord[], batchSize: number, meter: Meter): Promise<void>;
  /** A new consumer group reads the topic from the beginning until it has seen `count` records (B1's consume phase). */
  consume(topic: string, count: number, meter: Meter): Promise<void>;
  /**
   * Open loop: one record per send, each sent at its planned time (`ratePerSec`) without waiting for the previous
   * one, while a consumer group that already reads the topic notes when each arrives. Returns the latency of every
   * record from its planned send time to its arrival, in ms (so a stalled sender does not hide its delay).
   */
  latency(topic: string, records: readonly BenchRecord[], ratePerSec: number, meter: Meter): Promise<number[]>;
  /**
   * The services' loop: a consumer group reads `count` records of `input` and, per partition, every `perTransaction`
   * records (or fewer at the end) writes one output per record to `output` and commits the input offsets in one
   * Kafka transaction. Reads committed data only.
   */
  transactionalLoop(input: string, output: string, count: number, perTransaction: number, meter: Meter): Promise<void>;
  close(): Promise<void>;
}

/** The harness broker's SCRAM-SHA-512 login from the environment (the admin principal), or none on a plaintext broker. */
export function saslLogin(): KafkaSaslCredentials | undefined {
  return kafkaSaslFromEnv();
}

/** The sequence number the bench puts in every record's key (`<seq>:<key>`), to match an arrival to its send. */
export function sequenceOf(key: string): number {
  return Number(key.slice(0, key.indexOf(':')));
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sleeps until `performance.now()` reaches `at` (ms); the open loop's pacing. */
export function waitUntil(at: number): Promise<void> {
  const delay = at - performance.now();
  return delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve();
}

/**
 * A broker that has just created a topic answers "does not host this topic-partition" for a moment before its
 * leaders serve (B1 and the messaging lib wait the same way). Not measured.
 */
export async function retryWhileLeadersSettle<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
