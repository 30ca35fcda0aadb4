import { registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { StateNotLoadedError, silentLogger } from '@grantline/messaging';
import type { MessageBus, ReplayOptions } from '@grantline/messaging';
import { eventually } from '@grantline/testing';
import { FixedClock } from '../clock/offset.clock';
import { InMemoryPublisher } from '../testing/in-memory-publisher';
import { schedulerEvents } from '../testing/scheduler-events';
import { SchedulerRuntime } from './scheduler.runtime';

const e = schedulerEvents();
const NOW = '2025-01-01T00:00:00.000Z';
const DUE = '2025-01-01T01:00:00.000Z';

/** The log as a bus: one partition per topic; replay refuses while `failing` (a broker away), counting its attempts. */
function faultyBus(log: readonly Envelope[]) {
  const publisher = new InMemoryPublisher();
  const state = { failing: true, replays: 0 };
  const bus = {
    publisher,
    ensureTopics: async () => undefined,
    replay: async (options: ReplayOptions): Promise<number> => {
      state.replays += 1;
      if (state.failing) throw new Error('broker unavailable: replay refused');
      let handled = 0;
      for (const topic of options.topics) {
        const onTopic = log.filter((event) => registry.definitionOf(event.type).topic === topic);
        for (const [offset, event] of onTopic.entries()) await options.handler(event, { topic, partition: 0, offset: String(offset), key: null });
        handled += onTopic.length;
      }
      return handled;
    },
  } as unknown as MessageBus;
  return { bus, publisher, state };
}

describe('SchedulerRuntime when its rebuild fails', () => {
  it('given replays that fail, then it is not ready and fires nothing; once a replay succeeds it is ready and fires what is due', async () => {
    // Given a grant on the log whose expiry is already due
    const { bus, publisher, state } = faultyBus([e.grantCreated('g1', 'r1', DUE)]);
    const clock = new FixedClock(NOW);
    clock.advance(2 * 3_600_000);
    const runtime = new SchedulerRuntime({ bus, registry, clock, logger: silentLogger, rebuildBackoff: { initialDelayMs: 1, maxDelayMs: 1 } });
    const started = runtime.start();
    let live = false;
    const liveEvent = runtime.whenRebuilt().then(() => (live = true));

    // When the replay keeps failing
    await eventually(() => expect(state.replays).toBeGreaterThanOrEqual(2));
    // Then it is not ready, says why, holds live events back and does not tick from an empty book
    expect(runtime.isReady()).toBe(false);
    expect(runtime.ready).toBe(false);
    expect(runtime.lastError).toBe('Error: broker unavailable: replay refused');
    expect(runtime.ticker.started).toBe(false);
    expect(live).toBe(false);
    expect(publisher.events()).toEqual([]);

    // When the broker is back
    state.failing = false;
    const report = await started;
    await liveEvent;
    // Then it is ready, the live event goes on, and the timer that fell due fired once
    expect(runtime.isReady()).toBe(true);
    expect(runtime.lastError).toBeUndefined();
    // (the report is of the rebuild: the timer was pending then, and fired right after)
    expect(report).toMatchObject({ events: 1, pending: 1, fired: 0 });
    expect(runtime.rebuildAttempts).toBe(state.replays);
    expect(publisher.events().map((event) => (event.data as TimerFiredData).timerId)).toEqual(['grant_expiry:g1']);
    await runtime.stop();
  });

  it('given a rebuild that never succeeds, when it stops, then start and waiting live events are released without ticking', async () => {
    const { bus, state } = faultyBus([]);
    const runtime = new SchedulerRuntime({ bus, registry, clock: new FixedClock(NOW), logger: silentLogger, rebuildBackoff: { initialDelayMs: 1, maxDelayMs: 1 } });
    const started = runtime.start();
    const waiting = runtime.whenRebuilt();
    await runtime.whenRebuildAttempted();
    expect(state.replays).toBeGreaterThanOrEqual(1);
    await runtime.stop();
    await expect(started).rejects.toBeInstanceOf(StateNotLoadedError);
    await expect(waiting).rejects.toBeInstanceOf(StateNotLoadedError);
    expect(runtime.ticker.started).toBe(false);
    expect(runtime.name).toBe('scheduler timers');
  });
});
