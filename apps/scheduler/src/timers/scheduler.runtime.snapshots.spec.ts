import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { InMemoryMessageBus, InMemorySnapshotStore, silentLogger } from '@grantline/messaging';
import { FixedClock } from '../clock/offset.clock';
import { schedulerEvents } from '../testing/scheduler-events';
import { SchedulerRuntime } from './scheduler.runtime';
import type { RebuildReport } from './scheduler.runtime';

// The runtime with snapshots (ADR 0037): it starts from the newest snapshot of its book and the log after it, and
// fires exactly what a runtime that replays the whole log fires.

const e = schedulerEvents();
const HOUR = 3_600_000;
const NOW = Date.parse('2025-01-01T00:00:00.000Z');
const STATE = 'scheduler timers';
const at = (ms: number): string => new Date(ms).toISOString();
const uuid = (n: number, kind: number): string => `0000000${kind}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Round `round` of the history: grants with UUID ids (compact) and plain ids, moved, revoked; tasks; recertifications. */
function round(n: number): Envelope[] {
  const events: Envelope[] = [];
  for (let i = 0; i < 30; i += 1) {
    const id = n * 100 + i;
    const request = uuid(id, 1);
    const grant = `${request}:ent-pg-orders-read`;
    events.push(e.grantCreated(grant, request, at(NOW + (n + (i % 10) / 4) * HOUR), { id: uuid(id, 2) }));
    if (i % 5 === 0) events.push(e.grantActivated(grant, request, at(NOW + (n + 3) * HOUR), { id: uuid(id, 3) }));
    if (i % 7 === 0) events.push(e.grantRevoked(grant, request, { id: uuid(id, 4) }));
    if (i % 3 === 0) events.push(e.grantCreated(`g${id}`, `r${id}`, at(NOW + (n + (i % 4)) * HOUR)));
  }
  events.push(e.taskOpened(`t${n}`, `r${n}`, at(NOW + (n + 1) * HOUR), 2), e.decision(`t${n}`, `r${n}`, 'carol', 'approve'));
  events.push(e.requestApproved(`rc${n}`, [{ grantId: `gc${n}`, expiresAt: at(NOW + 100 * HOUR) }], 'PT2H', { time: at(NOW + n * HOUR) }));
  events.push(e.grantCreated(`gc${n}`, `rc${n}`, at(NOW + 100 * HOUR)));
  // a redelivery of the round before's first event: must change nothing
  if (n > 0) events.push(e.grantCreated(`${uuid((n - 1) * 100, 1)}:ent-pg-orders-read`, uuid((n - 1) * 100, 1), at(NOW), { id: uuid((n - 1) * 100, 2) }));
  return events;
}

/** One log and clock, and the scheduler started on it again and again (a restart each time), with or without snapshots. */
function deployment(snapshots: boolean) {
  const bus = new InMemoryMessageBus({ registry });
  const store = new InMemorySnapshotStore();
  const clock = new FixedClock(at(NOW));
  return {
    bus,
    store,
    clock,
    /** Starts a scheduler, lets it fire what is due, waits for its snapshot, stops it. */
    restart: async (): Promise<RebuildReport> => {
      const runtime = new SchedulerRuntime({
        bus,
        registry,
        clock,
        logger: silentLogger,
        ...(snapshots ? { snapshots: { store, minEvents: 5, compactEveryMs: 0 } } : {}),
      });
      const report = await runtime.start();
      await runtime.snapshotWritten();
      await runtime.stop();
      return report;
    },
    fired: (): string[] => bus.events(TOPICS.schedule).map((event) => `${(event.data as TimerFiredData).timerId} ${event.id}`),
  };
}

describe('SchedulerRuntime with snapshots', () => {
  it('given restarts on a growing log, then each start from a snapshot fires exactly what a full replay fires, and a corrupt snapshot falls back to the full replay', async () => {
    // Given the same log and the same clock, under a scheduler with snapshots and one without
    const withSnapshots = deployment(true);
    const replaying = deployment(false);
    const both = [withSnapshots, replaying];
    const reports: RebuildReport[] = [];
    const logSizes: number[] = [];
    for (let n = 0; n < 4; n += 1) {
      for (const each of both) {
        each.bus.append(...round(n));
        if (n > 0) each.clock.advance(HOUR + HOUR / 2);
      }
      // the third start finds its snapshot corrupt
      if (n === 3) withSnapshots.store.corrupt(STATE);

      logSizes.push(withSnapshots.bus.events().length);

      // When each restarts
      const [report, reference] = [await withSnapshots.restart(), await replaying.restart()];
      reports.push(report);

      // Then both fired the same firings (same timers, same ids), each once
      expect(withSnapshots.fired()).toEqual(replaying.fired());
      expect(new Set(withSnapshots.fired()).size).toBe(withSnapshots.fired().length);
      expect([report.pending, report.fired]).toEqual([reference.pending, reference.fired]);
      expect(reference.snapshot).toBeUndefined();
    }

    const [first, second, third, corrupt] = reports as [RebuildReport, RebuildReport, RebuildReport, RebuildReport];
    // the first start replays the whole log (nothing stored yet) and writes the first snapshot
    expect(first.snapshot).toBeUndefined();
    expect(first.snapshotSkipped).toBe('none stored yet');
    // the next ones start from the snapshot the one before wrote (the second's holds the first's firings) plus the log after it
    for (const [restored, before, logSize] of [
      [second, first, logSizes[1]],
      [third, second, logSizes[2]],
    ] as const) {
      expect(restored.snapshotSkipped).toBeUndefined();
      expect(restored.snapshot?.events).toBeGreaterThanOrEqual(before.events);
      expect(restored.events).toBeGreaterThan(0);
      expect((restored.snapshot?.events ?? 0) + restored.events).toBe(logSize);
    }
    expect(withSnapshots.fired().length).toBeGreaterThan(50);
    // the corrupt one is not used: the whole log is replayed, and what fires is the same (checked above)
    expect(corrupt.snapshot).toBeUndefined();
    expect(corrupt.snapshotSkipped).toMatch(/digest/);
    expect(corrupt.events).toBe(logSizes[3]);
    expect(withSnapshots.store.writes).toBe(4);
  });
});
