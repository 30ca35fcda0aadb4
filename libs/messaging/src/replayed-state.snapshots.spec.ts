import type { Envelope } from '@grantline/contracts';
import { silentLogger } from './logger';
import type { ReplayOptions, TopicSpec } from './ports';
import { ReplayedState } from './replayed-state';
import type { ReplayedStateSnapshots } from './replayed-state';
import { InMemorySnapshotStore, collectFrames, decodeJsonParts, encodeJsonParts, packSnapshot, unpackSnapshot } from './state-snapshot';
import type { SnapshotManifest, StateSnapshotCodec } from './state-snapshot';

const NO_WAIT = { initialDelayMs: 1, maxDelayMs: 1 };

/** A running total per key and the ids folded: enough to see an event folded twice or missed. */
class Tally {
  totals = new Map<string, number>();
  folded: string[] = [];

  apply(event: Envelope): void {
    const { key, amount } = event.data as { key: string; amount: number };
    this.totals.set(key, (this.totals.get(key) ?? 0) + amount);
    this.folded.push(event.id);
  }
}

const tallyCodec: StateSnapshotCodec<Tally> = {
  version: 'tally/1',
  empty: () => new Tally(),
  apply: (state, event) => state.apply(event),
  encode: (state) => encodeJsonParts({ totals: state.totals.entries(), folded: state.folded }),
  decode: async (frames, into) => {
    const parts = await decodeJsonParts(frames, ['totals', 'folded']);
    const totals = new Map(parts.totals as [string, number][]);
    into.totals = totals;
    into.folded = parts.folded as string[];
  },
};

const add = (id: string, key: string, amount = 1): Envelope => ({ id, type: 'spec.added', data: { key, amount } }) as unknown as Envelope;

/** Topics of one partition each, with `from`, end offsets and an identity: what ReplayedState needs of a bus. */
function logBus(log: Record<string, Envelope[]>, identity = { clusterId: 'cluster-a' }) {
  const replays: { topics: string[]; from: ReplayOptions['from'] }[] = [];
  let failNextAfter: number | undefined;
  return {
    log,
    replays,
    failNextReplayAfter: (events: number) => void (failNextAfter = events),
    logIdentity: async () => identity,
    endOffsets: async (topics: readonly string[]) => topics.flatMap((topic) => (log[topic] ? [{ topic, partition: 0, end: String(log[topic].length) }] : [])),
    ensureTopics: async (topics: readonly TopicSpec[]): Promise<void> => {
      for (const { topic } of topics) log[topic] ??= [];
    },
    replay: async (replay: ReplayOptions): Promise<number> => {
      replays.push({ topics: [...replay.topics], from: replay.from });
      const failAfter = failNextAfter;
      failNextAfter = undefined;
      let handled = 0;
      for (const topic of replay.topics) {
        const events = log[topic] ?? [];
        for (let offset = Number(replay.from?.[topic]?.[0] ?? '0'); offset < events.length; offset += 1) {
          if (failAfter !== undefined && handled >= failAfter) throw new Error('broker unavailable');
          await replay.handler(events[offset] as Envelope, { topic, partition: 0, offset: String(offset), key: null });
          handled += 1;
        }
      }
      return handled;
    },
  };
}

function history(count: number, prefix = 'e'): Envelope[] {
  return Array.from({ length: count }, (_, i) => add(`${prefix}${i}`, `k${i % 7}`, i));
}

function fullFold(log: Record<string, Envelope[]>, topics: readonly string[]): Tally {
  const tally = new Tally();
  for (const topic of topics) for (const event of log[topic] ?? []) tally.apply(event);
  return tally;
}

function snapshotted(bus: ReturnType<typeof logBus>, store: InMemorySnapshotStore, live = new Tally(), extra: Partial<ReplayedStateSnapshots<Tally>> = {}) {
  const state = new ReplayedState<Tally>({
    bus,
    topics: () => ['b', 'a'],
    apply: (event) => live.apply(event),
    logger: silentLogger,
    name: 'tally',
    backoff: NO_WAIT,
    snapshots: { store, codec: tallyCodec, live, minEvents: 10, compactEveryMs: 0, ...extra },
  });
  return { state, live };
}

describe('ReplayedState with snapshots', () => {
  it('given no snapshot, when it loads a long log, then it replays it all and stores a snapshot of the positions it folded', async () => {
    const bus = logBus({ a: history(30, 'a'), b: history(12, 'b') });
    const store = new InMemorySnapshotStore();
    const { state, live } = snapshotted(bus, store);

    const report = await state.whenLoaded();
    await state.snapshotWritten();

    expect(report).toMatchObject({ events: 42, snapshotSkipped: 'none stored yet' });
    expect(report.snapshot).toBeUndefined();
    expect(live).toEqual(fullFold(bus.log, ['a', 'b']));
    const manifest = (await store.latest('tally')) as SnapshotManifest;
    expect(manifest).toMatchObject({
      state: 'tally',
      version: 'tally/1',
      topics: ['a', 'b'],
      positions: { a: { 0: '30' }, b: { 0: '12' } },
      events: 42,
      log: { clusterId: 'cluster-a' },
    });
  });

  it('given a snapshot and events after it, when a new instance loads, then it restores the snapshot, replays only the tail and ends as a full replay would', async () => {
    const bus = logBus({ a: history(30, 'a'), b: history(12, 'b') });
    const store = new InMemorySnapshotStore();
    const first = snapshotted(bus, store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();
    bus.log['a']?.push(...history(5, 'late-a'));
    bus.log['b']?.push(...history(3, 'late-b'));

    const second = snapshotted(bus, store);
    const report = await second.state.whenLoaded();

    expect(report.events).toBe(8);
    expect(report.snapshot).toMatchObject({ events: 42 });
    expect(bus.replays.at(-1)?.from).toEqual({ a: { 0: '30' }, b: { 0: '12' } });
    expect(second.live.totals).toEqual(fullFold(bus.log, ['a', 'b']).totals);
    expect(second.live.folded).toHaveLength(50);
    expect(new Set(second.live.folded).size).toBe(50);
  });

  it('given a restored state, when the live consumer delivers records the snapshot covers, then they are not folded again', async () => {
    const bus = logBus({ a: history(20, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const first = snapshotted(bus, store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();
    const second = snapshotted(bus, store);
    await second.state.whenLoaded();

    second.state.applyLive(bus.log['a']?.[19] as Envelope, { topic: 'a', partition: 0, offset: '19' });
    second.state.applyLive(add('new', 'k0', 1000), { topic: 'a', partition: 0, offset: '20' });

    expect(second.live.folded.filter((id) => id === 'a19')).toHaveLength(1);
    expect(second.live.folded.at(-1)).toBe('new');
  });

  it('given a corrupt snapshot, when a new instance loads, then it says why and replays the whole log', async () => {
    const bus = logBus({ a: history(30, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const first = snapshotted(bus, store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();
    store.corrupt('tally');

    const second = snapshotted(bus, store);
    const report = await second.state.whenLoaded();

    expect(report.snapshot).toBeUndefined();
    expect(report.snapshotSkipped).toMatch(/do not match its digest/);
    expect(report.events).toBe(30);
    expect(second.live).toEqual(fullFold(bus.log, ['a', 'b']));
  });

  it.each([
    ['another codec version', { codec: { ...tallyCodec, version: 'tally/2' } }, {}, /codec version tally\/1, this is tally\/2/],
    ['another log', {}, { clusterId: 'cluster-b' }, /another log/],
  ])('given a snapshot of %s, when a new instance loads, then it is not used', async (_, extra, identity, reason) => {
    const log = { a: history(30, 'a'), b: [] };
    const store = new InMemorySnapshotStore();
    const first = snapshotted(logBus(log), store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();

    const bus = logBus(log, { clusterId: 'cluster-a', ...identity });
    const second = snapshotted(bus, store, new Tally(), extra);
    const report = await second.state.whenLoaded();

    expect(report.snapshotSkipped).toMatch(reason);
    expect(report.events).toBe(30);
    expect(second.live).toEqual(fullFold(log, ['a', 'b']));
  });

  it('given a snapshot beyond where the log ends (the log was recreated), when a new instance loads, then it replays the new log from the beginning', async () => {
    const store = new InMemorySnapshotStore();
    const first = snapshotted(logBus({ a: history(30, 'a'), b: [] }), store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();

    const recreated = logBus({ a: history(4, 'fresh'), b: [] });
    const second = snapshotted(recreated, store);
    const report = await second.state.whenLoaded();

    expect(report.snapshotSkipped).toMatch(/beyond the log's end/);
    expect(second.live).toEqual(fullFold(recreated.log, ['a', 'b']));
  });

  it('given a codec whose decode fails, when a new instance loads, then the state is left empty and replayed from the beginning', async () => {
    const bus = logBus({ a: history(30, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const first = snapshotted(bus, store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();

    const failing: StateSnapshotCodec<Tally> = {
      ...tallyCodec,
      decode: () => {
        throw new Error('a codec bug');
      },
    };
    const second = snapshotted(bus, store, new Tally(), { codec: failing });
    const report = await second.state.whenLoaded();

    expect(report.snapshotSkipped).toMatch(/a codec bug/);
    expect(second.live).toEqual(fullFold(bus.log, ['a', 'b']));
  });

  it('given a replay from a snapshot fails part-way, when it is retried, then it resumes after what it folded, nothing twice', async () => {
    const bus = logBus({ a: history(30, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const first = snapshotted(bus, store);
    await first.state.whenLoaded();
    await first.state.snapshotWritten();
    bus.log['a']?.push(...history(10, 'late'));
    bus.failNextReplayAfter(4);

    const second = snapshotted(bus, store);
    const report = await second.state.whenLoaded();

    expect(report.attempts).toBe(2);
    expect(report.snapshot).toMatchObject({ events: 30 });
    expect(bus.replays.at(-1)?.from).toEqual({ a: { 0: '34' } });
    expect(second.live).toEqual(fullFold(bus.log, ['a', 'b']));
  });

  it('given a short tail, when it loads, then no new snapshot is written', async () => {
    const bus = logBus({ a: history(5, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const { state } = snapshotted(bus, store);
    await state.whenLoaded();
    await state.snapshotWritten();
    expect(store.writes).toBe(0);
  });

  it('given enough events beyond the newest snapshot, when it compacts, then it folds snapshot and tail beside the live state into the next snapshot', async () => {
    const bus = logBus({ a: history(30, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const { state, live } = snapshotted(bus, store);
    await state.whenLoaded();
    await state.snapshotWritten();
    bus.log['b']?.push(...history(15, 'b'));
    // The live state folds ahead of the log here (as a service folds its own outputs): the compactor must not copy it.
    live.apply(add('ahead', 'k1', 99));

    const manifest = await state.compact();

    expect(manifest).toMatchObject({ events: 45, positions: { a: { 0: '30' }, b: { 0: '15' } } });
    const restored = new Tally();
    await tallyCodec.decode(await unpackSnapshot(manifest as SnapshotManifest, await store.read(manifest as SnapshotManifest)), restored);
    expect(restored).toEqual(fullFold(bus.log, ['a', 'b']));
    expect(restored.folded).not.toContain('ahead');
  });

  it('given fewer events than the minimum beyond the newest snapshot, when it compacts, then it writes nothing', async () => {
    const bus = logBus({ a: history(30, 'a'), b: [] });
    const store = new InMemorySnapshotStore();
    const { state } = snapshotted(bus, store);
    await state.whenLoaded();
    await state.snapshotWritten();
    bus.log['b']?.push(...history(3, 'b'));
    expect(await state.compact()).toBeUndefined();
    expect(store.writes).toBe(1);
  });
});

describe('encodeJsonParts / decodeJsonParts', () => {
  const parts = { grants: Array.from({ length: 50 }, (_, i) => [`g${i}`, { n: i }]), leavers: new Set(['a', 'b']), none: [] };

  it('given named parts, when encoded lazily in slices and decoded, then every part comes back in order', async () => {
    const frames = [...encodeJsonParts(parts, 7)];
    expect(frames.length).toBe(1 + 8 + 1 + (1 + 1 + 1) + (1 + 1));
    expect(await decodeJsonParts(frames, ['grants', 'leavers', 'none'])).toEqual({ grants: parts.grants, leavers: ['a', 'b'], none: [] });
  });

  it('given a large snapshot, when its frames are taken and decoded, then the event loop gets turns meanwhile (a lease heartbeat keeps beating)', async () => {
    let turns = 0;
    let beating = true;
    const beat = (): void => {
      if (!beating) return;
      turns += 1;
      setImmediate(beat);
    };
    setImmediate(beat);
    try {
      const frames = await collectFrames(encodeJsonParts(parts, 5), { yieldEveryMs: 0 });
      const afterEncode = turns;
      expect(afterEncode).toBeGreaterThan(0);
      await decodeJsonParts(frames, ['grants'], { yieldEveryMs: 0 });
      expect(turns).toBeGreaterThan(afterEncode);
    } finally {
      beating = false;
    }
  });

  it('given a part missing, entries outside a part, a slice lost or a part cut short, when decoded, then the snapshot is unusable', async () => {
    await expect(decodeJsonParts([...encodeJsonParts({ grants: [] })], ['grants', 'leavers'])).rejects.toThrow(/no part named leavers/);
    await expect(decodeJsonParts([Buffer.from('[1]')], ['grants'])).rejects.toThrow(/outside any part/);
    const frames = [...encodeJsonParts(parts, 7)];
    await expect(decodeJsonParts([...frames.slice(0, 3), ...frames.slice(4)], ['grants'])).rejects.toThrow(/part grants has 7 of its 8 slices/);
    await expect(decodeJsonParts(frames.slice(0, -1), ['grants'])).rejects.toThrow(/part none has no end/);
  });
});

describe('packSnapshot / unpackSnapshot', () => {
  it('given frames of any size, when packed into small chunks and unpacked, then the same frames come back', async () => {
    const frames = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(100_000, 7)];
    const packed = await packSnapshot(frames, 64);
    expect(packed.chunks.length).toBeGreaterThan(1);
    const back = await unpackSnapshot({ sha256: packed.sha256, bytes: packed.bytes, chunks: packed.chunks.length }, packed.chunks);
    expect(back.map((frame) => Buffer.from(frame))).toEqual(frames);
  });

  it('given a chunk missing, when unpacked, then it is unusable', async () => {
    const packed = await packSnapshot([Buffer.alloc(10_000, 1)], 64);
    await expect(unpackSnapshot({ sha256: packed.sha256, bytes: packed.bytes, chunks: packed.chunks.length }, packed.chunks.slice(1))).rejects.toThrow(
      /chunks are stored/,
    );
  });
});
