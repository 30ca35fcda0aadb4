import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { InMemoryMessageBus, StateNotLoadedError, silentLogger } from '@grantline/messaging';
import type { ReplayOptions } from '@grantline/messaging';
import { eventually } from '@grantline/testing';
import { FixedClock } from '../clock/offset.clock';
import { schedulerEvents } from '../testing/scheduler-events';
import { SchedulerRuntime } from './scheduler.runtime';

const e = schedulerEvents();
const NOW = '2025-01-01T00:00:00.000Z';
const DUE = '2025-01-01T01:00:00.000Z';

/** The log on the in-memory bus, its replay refused while `failing` (a broker away), counting its attempts. */
class FaultyLogBus extends InMemoryMessageBus {
  failing = true;
  replays = 0;

  override async replay(options: ReplayOptions): Promise<number> {
    this.replays += 1;
    if (this.failing) throw new Error('broker unavailable: replay refused');
    return super.replay(options);
  }
}

function faultyBus(log: readonly Envelope[]) {
  const bus = new FaultyLogBus({ registry });
  bus.append(...log);
  return { bus, fired: () => bus.events(TOPICS.schedule) };
}

describe('SchedulerRuntime when its rebuild fails', () => {
  it('given replays that fail, then it is not ready and fires nothing; once a replay succeeds it is ready and fires what is due', async () => {
    // Given a grant on the log whose expiry is already due
    const { bus, fired } = faultyBus([e.grantCreated('g1', 'r1', DUE)]);
    const clock = new FixedClock(NOW);
    clock.advance(2 * 3_600_000);
    const runtime = new SchedulerRuntime({ bus, registry, clock, logger: silentLogger, rebuildBackoff: { initialDelayMs: 1, maxDelayMs: 1 } });
    const started = runtime.start();
    let live = false;
    const liveEvent = runtime.whenRebuilt().then(() => (live = true));

    // When the replay keeps failing
    await eventually(() => expect(bus.replays).toBeGreaterThanOrEqual(2));
    // Then it is not ready, says why, holds live events back and does not tick from an empty book
    expect(runtime.isReady()).toBe(false);
    expect(runtime.ready).toBe(false);
    expect(runtime.lastError).toBe('Error: broker unavailable: replay refused');
    expect(runtime.ticker.started).toBe(false);
    expect(live).toBe(false);
    expect(fired()).toEqual([]);

    // When the broker is back
    bus.failing = false;
    const report = await started;
    await liveEvent;
    // Then it is ready, the live event goes on, and the timer that fell due fired once
    expect(runtime.isReady()).toBe(true);
    expect(runtime.lastError).toBeUndefined();
    // (the report is of the rebuild: the timer was pending then, and fired right after)
    expect(report).toMatchObject({ events: 1, pending: 1, fired: 0 });
    expect(runtime.rebuildAttempts).toBe(bus.replays);
    expect(fired().map((event) => (event.data as TimerFiredData).timerId)).toEqual(['grant_expiry:g1']);
    await runtime.stop();
  });

  it('given a rebuild that never succeeds, when it stops, then start and waiting live events are released without ticking', async () => {
    const { bus } = faultyBus([]);
    const runtime = new SchedulerRuntime({
      bus,
      registry,
      clock: new FixedClock(NOW),
      logger: silentLogger,
      rebuildBackoff: { initialDelayMs: 1, maxDelayMs: 1 },
    });
    const started = runtime.start();
    const waiting = runtime.whenRebuilt();
    await runtime.whenRebuildAttempted();
    expect(bus.replays).toBeGreaterThanOrEqual(1);
    await runtime.stop();
    await expect(started).rejects.toBeInstanceOf(StateNotLoadedError);
    await expect(waiting).rejects.toBeInstanceOf(StateNotLoadedError);
    expect(runtime.ticker.started).toBe(false);
    expect(runtime.name).toBe('scheduler timers');
  });
});
