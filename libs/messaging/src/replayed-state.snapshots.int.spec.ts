import type { Envelope } from '@grantline/contracts';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { silentLogger } from './logger';
import { ReplayedState } from './replayed-state';
import { InMemorySnapshotStore, decodeJsonParts, encodeJsonParts } from './state-snapshot';
import type { StateSnapshotCodec } from './state-snapshot';
import { specBus } from './testing/spec-bus';
import type { Ping } from './testing/test-events';

/** Per key, the sequence numbers folded in order: a missed, doubled or reordered record shows. */
type Seen = Map<string, number[]>;

const seenCodec: StateSnapshotCodec<Seen> = {
  version: 'seen/1',
  empty: () => new Map(),
  apply: (state, event) => fold(state, event),
  encode: (state) => encodeJsonParts({ seen: state.entries() }),
  decode: async (frames, into) => {
    const { seen } = await decodeJsonParts(frames, ['seen']);
    for (const [key, seqs] of seen as [string, number[]][]) into.set(key, seqs);
  },
};

function fold(state: Seen, event: Envelope): void {
  const { key, seq } = event.data as Ping;
  state.set(key, [...(state.get(key) ?? []), seq]);
}

describe('ReplayedState snapshots on a real broker', () => {
  const { kafkaBrokers } = infraEndpoints();
  const spec = specBus({ brokers: kafkaBrokers, topic: uniqueName('snapshots'), clientId: uniqueName('snapshots'), partitions: 3 });

  beforeAll(async () => {
    await spec.bus.connect();
    await spec.ready;
  });
  afterAll(async () => spec.bus.disconnect());

  const publish = async (from: number, count: number): Promise<void> => {
    const events = Array.from({ length: count }, (_, i) => spec.ping({ key: `k${(from + i) % 5}`, seq: from + i }));
    await spec.bus.publisher.publish(spec.topic, events);
  };

  const state = (store: InMemorySnapshotStore, live: Seen) =>
    new ReplayedState<Seen>({
      bus: spec.bus,
      topics: () => [spec.topic],
      apply: (event) => fold(live, event),
      logger: silentLogger,
      name: 'seen',
      snapshots: { store, codec: seenCodec, live, minEvents: 50, compactEveryMs: 0 },
    });

  it('given a snapshot of three partitions, when more is published and a new instance starts, then it reads only the tail and holds what a full replay holds', async () => {
    const store = new InMemorySnapshotStore();
    await publish(0, 120);
    const first = state(store, new Map());
    expect((await first.whenLoaded()).events).toBe(120);
    await first.snapshotWritten();
    const manifest = await store.latest('seen');
    expect(manifest?.log?.clusterId).toEqual((await spec.bus.logIdentity()).clusterId);
    expect(Object.keys(manifest?.positions[spec.topic] ?? {}).sort()).toEqual(['0', '1', '2']);

    await publish(120, 30);
    const restoredLive: Seen = new Map();
    const report = await state(store, restoredLive).whenLoaded();

    const fullLive: Seen = new Map();
    await new ReplayedState({
      bus: spec.bus,
      topics: () => [spec.topic],
      apply: (event) => fold(fullLive, event),
      logger: silentLogger,
      name: 'full',
    }).whenLoaded();
    expect(report.snapshot).toMatchObject({ events: 120 });
    expect(report.events).toBe(30);
    expect(restoredLive).toEqual(fullLive);
    expect([...restoredLive.values()].flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });
});
