/**
 * The MessageBus port's contract as one jest suite, run against every transport (Kafka in
 * kafka/bus-behaviour.kafka.int.spec.ts, the in-memory log in in-memory/bus-behaviour.in-memory.spec.ts): a
 * transport is a substitute for another only while both pass it. What a transport does differently under the hood
 * (reading raw records back, committed offsets, a second process on the same log) the fixture provides.
 */
import type { EventRegistry } from '@grantline/contracts';
import type { MessageBus, RunningConsumer } from '../ports';
import { batchBehaviour } from './bus-behaviour.batches';
import { deliveryBehaviour } from './bus-behaviour.delivery';
import { failureBehaviour } from './bus-behaviour.failures';
import { logBehaviour } from './bus-behaviour.log';
import type { testRegistry } from './test-events';

/** A raw record, as a foreign, newer or broken producer writes it. */
export interface RawSpecRecord {
  readonly key: string | null;
  readonly value: string;
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One spec's bus, on topics (input, `.out`, `.dlq`) no other spec uses. */
export interface BusFixture {
  readonly bus: MessageBus;
  readonly topic: string;
  readonly outTopic: string;
  readonly deadLetterTopic: string;
  /** The spec events, registered for `topic` and `outTopic`. */
  readonly events: ReturnType<typeof testRegistry>;
  /** Writes records as given, bypassing the bus's encoding. */
  appendRaw(topic: string, records: readonly RawSpecRecord[]): Promise<void>;
  /** The group's committed offsets per partition of a topic; a partition without a commit is absent. */
  committed(groupId: string, topic: string): Promise<Map<number, string>>;
  /** Another bus on the same log with its own registry: another process, or a newer release of the service. */
  sibling(registry: EventRegistry): MessageBus;
  /** The testing lib's `eventually`, which this non-spec file may not import. */
  eventually<T>(assertion: () => T | Promise<T>, options?: { timeoutMs?: number; intervalMs?: number }): Promise<T>;
  /** Disconnects every bus of the fixture and removes what it left on the log. */
  dispose(): Promise<void>;
}

export interface FixtureOptions {
  readonly partitions: number;
  /** A catalogue topic for the input (the upstream ITSM topic) instead of a unique one. */
  readonly topic?: string;
}

export type MakeBus = (name: string, options: FixtureOptions) => Promise<BusFixture>;

/** What the behaviour files get from the suite: fixtures and consumers that are cleaned up after each spec. */
export interface SuiteContext {
  setup(name: string, options: FixtureOptions): Promise<BusFixture>;
  /** Consumers to stop after the spec (stopping one twice is harmless). */
  track(consumer: RunningConsumer): RunningConsumer;
}

export function busBehaviourSuite(name: string, makeBus: MakeBus): void {
  describe(`${name} keeps the MessageBus contract`, () => {
    const fixtures: BusFixture[] = [];
    const consumers: RunningConsumer[] = [];
    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      await Promise.all(fixtures.splice(0).map((fixture) => fixture.dispose()));
    });
    const context: SuiteContext = {
      setup: async (spec, options) => {
        const fixture = await makeBus(spec, options);
        fixtures.push(fixture);
        return fixture;
      },
      track: (consumer) => {
        consumers.push(consumer);
        return consumer;
      },
    };
    describe('delivery', () => deliveryBehaviour(context));
    describe('failures (fail closed)', () => failureBehaviour(context));
    describe('the log', () => logBehaviour(context));
    describe('batch handlers', () => batchBehaviour(context));
  });
}
