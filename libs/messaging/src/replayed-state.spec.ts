import type { Envelope } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { RetriableError } from './errors';
import { silentLogger } from './logger';
import type { ReplayOptions, TopicSpec } from './ports';
import { ReplayedState } from './replayed-state';
import { StateLoader, StateNotLoadedError, StateReadinessRegistry } from './state-loader';
import type { ReplayedStateOptions } from './replayed-state';

const event = (id: string): Envelope => ({ id }) as unknown as Envelope;
/** Retries at once: the specs wait on observable conditions, never on a backoff. */
const NO_WAIT = { initialDelayMs: 1, maxDelayMs: 1 };

/**
 * A log of topics, one partition each. `failures` replays fail before any replay succeeds; `failAfter` lets a
 * failing replay fold that many events first (a broker lost mid-replay).
 */
function fakeBus(log: Record<string, readonly Envelope[]>, options: { failures?: number; failAfter?: number } = {}) {
  const replays: string[][] = [];
  const ensured: string[][] = [];
  let failuresLeft = options.failures ?? 0;
  return {
    replays,
    ensured,
    endOffsets: async (topics: readonly string[]) => topics.flatMap((topic) => (log[topic] ? [{ topic, partition: 0, end: String(log[topic].length) }] : [])),
    ensureTopics: async (topics: readonly TopicSpec[]): Promise<void> => void ensured.push(topics.map((spec) => spec.topic)),
    replay: async (replay: ReplayOptions): Promise<number> => {
      replays.push([...replay.topics]);
      const failing = failuresLeft > 0;
      if (failing) failuresLeft -= 1;
      let handled = 0;
      for (const topic of replay.topics) {
        const events = log[topic];
        if (events === undefined) throw new Error(`unknown topic ${topic}`);
        for (const [offset, e] of events.entries()) {
          if (failing && handled >= (options.failAfter ?? 0)) throw new Error(`broker unavailable (replay ${replays.length})`);
          await replay.handler(e, { topic, partition: 0, offset: String(offset), key: null });
          handled += 1;
        }
      }
      if (failing) throw new Error(`broker unavailable (replay ${replays.length})`);
      return handled;
    },
  };
}

function replayed(bus: ReturnType<typeof fakeBus>, topics: readonly string[], applied: string[], extra: Partial<ReplayedStateOptions> = {}): ReplayedState {
  return new ReplayedState({
    bus,
    topics: () => topics,
    apply: (e) => void applied.push(e.id),
    logger: silentLogger,
    name: 'spec state',
    backoff: NO_WAIT,
    ...extra,
  });
}

describe('ReplayedState', () => {
  it('given topics on the log, when loaded twice, then it ensures the topics and replays them once, together', async () => {
    const applied: string[] = [];
    const bus = fakeBus({ a: [event('a0'), event('a1')], b: [event('b0')] });
    const state = replayed(bus, ['a', 'b'], applied);
    await Promise.all([state.whenLoaded(), state.whenLoaded()]);
    expect(bus.ensured).toEqual([['a', 'b']]);
    expect(bus.replays).toEqual([['a', 'b']]);
    expect(applied).toEqual(['a0', 'a1', 'b0']);
    expect(state.isReady()).toBe(true);
    expect(state.report).toMatchObject({ events: 3, attempts: 1 });
  });

  it('given the replay folded up to an offset, when the live consumer delivers it again, then only later offsets are folded', async () => {
    const applied: string[] = [];
    const state = replayed(fakeBus({ a: [event('a0'), event('a1')] }), ['a'], applied);
    await state.whenLoaded();
    state.applyLive(event('a1'), { topic: 'a', partition: 0, offset: '1' });
    state.applyLive(event('a2'), { topic: 'a', partition: 0, offset: '2' });
    state.applyLive(event('c0'), { topic: 'c', partition: 0, offset: '0' });
    expect(applied).toEqual(['a0', 'a1', 'a2', 'c0']);
  });

  it('given a topic that cannot be read, then the state is never ready with part of its history: it is not ready and retries', async () => {
    const applied: string[] = [];
    const bus = fakeBus({ a: [event('a0')], b: [event('b0')] });
    const state = replayed(bus, ['a', 'missing', 'b'], applied);
    let loaded = false;
    void state.whenLoaded().then(
      () => (loaded = true),
      () => undefined,
    );
    await eventually(() => expect(state.attempts).toBeGreaterThanOrEqual(3));
    expect(state.isReady()).toBe(false);
    expect(loaded).toBe(false);
    expect(state.lastError).toBe('Error: unknown topic missing');
    await state.close();
  });

  it('given the replay fails twice then succeeds, then it is not ready with the last error, then ready with the whole state, each event folded once', async () => {
    const applied: string[] = [];
    const seenWhileFailing: Array<{ ready: boolean; lastError: string | undefined }> = [];
    // Each failing replay folds one event before the broker goes away: a retry resumes after it.
    const bus = fakeBus({ a: [event('a0'), event('a1')], b: [event('b0')] }, { failures: 2, failAfter: 1 });
    const state = replayed(bus, ['a', 'b'], applied, {
      // Observed from the inside, at the moment each attempt begins: what readiness reported after the previous one.
      topics: () => {
        if (bus.replays.length > 0) seenWhileFailing.push({ ready: state.isReady(), lastError: state.lastError });
        return ['a', 'b'];
      },
    });
    expect(state.isReady()).toBe(false);
    await state.whenLoaded();
    expect(seenWhileFailing).toEqual([
      { ready: false, lastError: 'Error: broker unavailable (replay 1)' },
      { ready: false, lastError: 'Error: broker unavailable (replay 2)' },
    ]);
    expect(bus.replays).toHaveLength(3);
    expect(state.isReady()).toBe(true);
    expect(state.lastError).toBeUndefined();
    expect(state.report).toMatchObject({ events: 3, attempts: 3 });
    expect(applied).toEqual(['a0', 'a1', 'b0']);
  });

  it('given a consumer waiting for a state that never loads, when the service stops, then it is released with a retriable error', async () => {
    const state = replayed(fakeBus({}), ['missing'], []);
    const waiting = state.whenLoaded();
    await eventually(() => expect(state.lastError).toBeDefined());
    await state.close();
    const released = await waiting.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(released).toBeInstanceOf(StateNotLoadedError);
    expect(released).toBeInstanceOf(RetriableError);
    expect(String(released)).toContain('spec state was not loaded: the service is stopping (last error: Error: unknown topic missing)');
    const attempts = state.attempts;
    expect(state.isReady()).toBe(false);
    // no attempt after the close
    await expect(state.whenLoaded()).rejects.toBeInstanceOf(StateNotLoadedError);
    expect(state.attempts).toBe(attempts);
  });
});

describe('StateLoader', () => {
  it('given a first attempt that fails, then whenAttempted resolves with the state not ready, and whenLoaded once a later attempt succeeds', async () => {
    let calls = 0;
    const loader = new StateLoader({
      name: 'spec read models',
      load: async (attempt) => {
        calls += 1;
        if (attempt < 3) throw new Error(`database unavailable (${attempt})`);
        return { replayed: true };
      },
      logger: silentLogger,
      backoff: NO_WAIT,
    });
    await loader.whenAttempted();
    expect(loader.isReady()).toBe(false);
    expect(loader.lastError).toBe('Error: database unavailable (1)');
    expect(await loader.whenLoaded()).toEqual({ replayed: true });
    expect(loader.isReady()).toBe(true);
    expect(loader.lastError).toBeUndefined();
    expect(calls).toBe(3);
    await loader.close();
    expect(loader.isReady()).toBe(true);
  });

  it('a load that throws synchronously is a failed attempt like any other', async () => {
    let calls = 0;
    const loader = new StateLoader<number>({
      name: 'spec',
      load: (attempt) => {
        calls += 1;
        if (attempt === 1) throw new Error('not even a promise');
        return Promise.resolve(attempt);
      },
      logger: silentLogger,
      backoff: NO_WAIT,
    });
    expect(await loader.whenLoaded()).toBe(2);
    expect(calls).toBe(2);
  });
});

describe('StateLoader.close', () => {
  it('releases the waiters at once, but resolves only once the attempt in flight has ended (it may still use the bus)', async () => {
    let finishAttempt!: () => void;
    const loader = new StateLoader<number>({
      name: 'spec',
      load: () => new Promise<number>((resolve) => (finishAttempt = () => resolve(1))),
      logger: silentLogger,
      backoff: NO_WAIT,
    });
    const waiting = loader.whenLoaded().then(
      () => 'loaded',
      (error: unknown) => error,
    );
    let closed = false;
    const closing = loader.close().then(() => (closed = true));
    expect(await waiting).toBeInstanceOf(StateNotLoadedError);
    expect(closed).toBe(false);
    finishAttempt();
    await closing;
    // the attempt that ended after the close does not make the state ready
    expect(loader.isReady()).toBe(false);
  });
});

describe('StateReadinessRegistry', () => {
  it('lists the states not loaded and closes them all', async () => {
    const registry = new StateReadinessRegistry();
    const loaded = replayed(fakeBus({ a: [event('a0')] }), ['a'], []);
    const failing = replayed(fakeBus({}), ['missing'], []);
    registry.register(loaded);
    registry.register(failing);
    registry.register(failing);
    await loaded.whenLoaded();
    failing.start();
    await eventually(() => expect(failing.lastError).toBeDefined());
    expect(registry.all()).toHaveLength(2);
    expect(registry.notReady().map((state) => [state.name, state.lastError])).toEqual([['spec state', 'Error: unknown topic missing']]);
    const waiting = failing.whenLoaded();
    await registry.closeAll();
    await expect(waiting).rejects.toBeInstanceOf(StateNotLoadedError);
    expect(loaded.isReady()).toBe(true);
  });

  describe('freshness', () => {
    it('given the live consumer delivered every record, when a fence is asked, then it holds at once, without reading again', async () => {
      const applied: string[] = [];
      const log = { a: [event('a0')], b: [event('b0')] };
      const bus = fakeBus(log);
      const state = replayed(bus, ['a', 'b'], applied);
      await state.whenLoaded();
      log.a.push(event('a1'));
      state.applyLive(event('a1'), { topic: 'a', partition: 0, offset: '1' });
      await state.ensureFresh(state.freshnessMark(), ['a']);
      expect(bus.replays).toEqual([['a', 'b']]);
      expect(applied).toEqual(['a0', 'b0', 'a1']);
    });

    it('given a record published before the input and not delivered live, when a fence is asked, then it is folded first, once', async () => {
      const applied: string[] = [];
      const log = { a: [event('a0')], b: [event('b0')] };
      const bus = fakeBus(log);
      const state = replayed(bus, ['a', 'b'], applied);
      await state.whenLoaded();
      log.a.push(event('a1'));
      const mark = state.freshnessMark();
      // Two inputs received together share one read of the fenced topic
      await Promise.all([state.ensureFresh(mark, ['a']), state.ensureFresh(mark, ['a'])]);
      expect(bus.replays).toEqual([['a', 'b'], ['a']]);
      expect(applied).toEqual(['a0', 'b0', 'a1']);
      // The live consumer delivers it later: already folded
      state.applyLive(event('a1'), { topic: 'a', partition: 0, offset: '1' });
      expect(applied).toEqual(['a0', 'b0', 'a1']);
      // And a fence asked now holds without another read
      await state.ensureFresh(state.freshnessMark(), ['a']);
      expect(bus.replays).toHaveLength(2);
    });

    it('given a bus that cannot tell where its topics end, then the fence fails instead of passing', async () => {
      const { endOffsets: _none, ...bus } = fakeBus({ a: [event('a0')] });
      const state = replayed(bus as ReturnType<typeof fakeBus>, ['a'], []);
      await expect(state.ensureFresh(state.freshnessMark(), ['a'])).rejects.toThrow(/cannot tell where its topics end/);
    });
  });
});
