import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { KafkaMessageBus, deterministicEventId, silentLogger } from '@grantline/messaging';
import type { RunningConsumer } from '@grantline/messaging';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { FixedClock } from '../clock/offset.clock';
import { schedulerEvents } from '../testing/scheduler-events';
import { schedulerRegistryOn } from '../testing/spec-registry';
import { SchedulerRuntime } from './scheduler.runtime';

const DAY = 86_400_000;
const T0 = Date.parse('2025-06-01T00:00:00.000Z');
const at = (days: number): string => new Date(T0 + days * DAY).toISOString();

interface Received {
  readonly event: Envelope;
  readonly position: string;
}

describe('scheduler runtime against a real broker', () => {
  const { kafkaBrokers } = infraEndpoints();
  const buses: KafkaMessageBus[] = [];
  const consumers: RunningConsumer[] = [];
  const runtimes: SchedulerRuntime[] = [];

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await Promise.all(buses.splice(0).map((bus) => bus.disconnect()));
  });

  async function setup(name: string) {
    const prefix = uniqueName(`sched_${name}`);
    const spec = schedulerRegistryOn(prefix);
    const newBus = (): KafkaMessageBus => {
      const bus = new KafkaMessageBus({ clientId: uniqueName(name), brokers: kafkaBrokers, registry: spec.registry, logger: silentLogger });
      buses.push(bus);
      return bus;
    };
    const admin = newBus();
    await admin.ensureTopics([
      { topic: spec.topics.grants, partitions: 3 },
      { topic: spec.topics.approvals, partitions: 3 },
      { topic: spec.topics.schedule, partitions: 3 },
    ]);
    // Everything that reaches the schedule topic, with its position, so a second write of a firing is visible.
    const received: Received[] = [];
    const collector = await admin.consume({
      groupId: uniqueName(`${name}_collector`),
      topics: [spec.topics.schedule],
      fromBeginning: true,
      handler: async (event, context) => void received.push({ event, position: `${context.partition}/${context.offset}` }),
    });
    consumers.push(collector);
    const start = async (clock: FixedClock): Promise<SchedulerRuntime> => {
      const runtime = new SchedulerRuntime({ bus: newBus(), registry: spec.registry, clock, tickIntervalMs: 50, logger: silentLogger });
      runtimes.push(runtime);
      await runtime.start();
      return runtime;
    };
    const firedIds = (): string[] => received.map(({ event }) => (event.data as TimerFiredData).timerId).sort();
    return { ...spec, prefix, admin, received, start, firedIds, events: schedulerEvents(spec.registry) };
  }

  it('fires timers derived from real events, and after a restart loses none and fires none twice', async () => {
    const s = await setup('restart');
    const e = s.events;
    await s.admin.publisher.publish(s.topics.grants, [
      ...[1, 2, 3, 4, 5, 6].map((day) => e.grantCreated(`g${day}`, `r${day}`, at(day))),
      e.grantRevoked('g3', 'r3'),
    ]);
    await s.admin.publisher.publish(s.topics.approvals, [
      e.taskOpened('t1', 'rt1', at(2)),
      e.taskOpened('t2', 'rt2', at(3)),
      e.decision('t2', 'rt2', 'carol', 'deny'),
      e.reviewOpened('rv1', 'rb1', at(40)), // beyond setTimeout's 24.8-day limit
    ]);

    // first instance: rebuilt by replay, then fed live
    const clockA = new FixedClock(at(0));
    const first = await s.start(clockA);
    expect(first.lastRebuild).toMatchObject({ events: 11, pending: 7, fired: 0 });
    const live = await first.consumeLive(uniqueName('restart_live'));
    consumers.push(live);
    await s.admin.publisher.publish(s.topics.grants, [e.grantCreated('g7', 'r7', at(2.5))]);
    await eventually(() => expect(first.book.view().timers.has('grant_expiry:g7')).toBe(true), { timeoutMs: 20_000 });

    clockA.advance(3.5 * DAY);
    await eventually(() => expect(s.firedIds()).toEqual(['approval_deadline:t1', 'grant_expiry:g1', 'grant_expiry:g2', 'grant_expiry:g7']), {
      timeoutMs: 20_000,
    });

    // "kill" it: ticker, live consumer and its connections gone; the second instance starts from the log alone
    await first.stop();
    await live.stop();
    const clockB = new FixedClock(clockA.now());
    const second = await s.start(clockB);
    expect(second.lastRebuild).toMatchObject({ fired: 4, pending: 4 });
    expect([...second.book.view().timers.keys()].sort()).toEqual(['break_glass_review_due:rv1', 'grant_expiry:g4', 'grant_expiry:g5', 'grant_expiry:g6']);
    expect(second.ticker.fired).toBe(0);

    clockB.advance(40 * DAY);
    const all = ['approval_deadline:t1', 'break_glass_review_due:rv1', ...[1, 2, 4, 5, 6, 7].map((n) => `grant_expiry:g${n}`)].sort();
    await eventually(() => expect(s.firedIds()).toEqual(all), { timeoutMs: 20_000 });

    // exactly once: one record per timer on the topic, under the deterministic id
    expect(new Set(s.received.map((r) => r.position)).size).toBe(s.received.length);
    for (const { event } of s.received) expect(event.id).toBe(deterministicEventId('timer', (event.data as TimerFiredData).timerId));
    expect(first.ticker.fired + second.ticker.fired).toBe(all.length);
  });

  it('SIGKILLed while firing and restarted: every timer fires exactly once, none early', async () => {
    const s = await setup('sigkill');
    const e = s.events;
    const timers = 300;
    const hour = DAY / 24;
    const dueAt = (i: number): number => T0 + (i + 1) * hour; // one per simulated hour, 12.5 days in all
    const batch: Envelope[] = [];
    for (let i = 0; i < timers; i += 1) batch.push(e.grantCreated(`g${i}`, `r${i}`, new Date(dueAt(i)).toISOString()));
    await s.admin.publisher.publish(s.topics.grants, batch);

    // 1 simulated hour per 20 real ms: the whole schedule takes about 6 s of real time
    const children: ChildProcess[] = [];
    let realStart: string | undefined;
    const startProcess = (): ChildProcess => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../testing/scheduler-process.ts')], {
        env: {
          ...process.env,
          KAFKA_BROKERS: kafkaBrokers.join(','),
          SPEC_PREFIX: s.prefix,
          SPEC_SIM_START: String(T0),
          SPEC_REAL_START: realStart ?? 'now',
          SPEC_SPEED: String(hour / 20),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const match = /"realStart":(\d+)/.exec(chunk);
        if (match && realStart === undefined) realStart = match[1];
      });
      children.push(child);
      return child;
    };
    const exited = (child: ChildProcess): Promise<void> =>
      new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    try {
      const first = startProcess();
      await eventually(() => expect(s.received.length).toBeGreaterThan(40), { timeoutMs: 60_000, intervalMs: 20 });
      first.kill('SIGKILL');
      await exited(first);
      expect(realStart).toBeDefined();
      const firedBeforeKill = s.received.length;
      expect(firedBeforeKill).toBeLessThan(timers);

      startProcess();
      await eventually(() => expect(new Set(s.firedIds()).size).toBe(timers), { timeoutMs: 90_000 });

      const byId = new Map<string, number>();
      for (const { event } of s.received) {
        const data = event.data as TimerFiredData;
        byId.set(data.timerId, (byId.get(data.timerId) ?? 0) + 1);
        expect(Date.parse(data.firedAt)).toBeGreaterThanOrEqual(Date.parse(data.dueAt));
      }
      expect([...byId.values()].every((count) => count === 1)).toBe(true);
      expect(s.received).toHaveLength(timers);
      process.stdout.write(`scheduler SIGKILL: ${firedBeforeKill} fired before the kill, ${timers - firedBeforeKill} after the restart, 0 twice\n`);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map(exited));
    }
  });

  it('catches up at start on what fell due while it was down', async () => {
    const s = await setup('catchup');
    const e = s.events;
    await s.admin.publisher.publish(s.topics.grants, [e.grantCreated('g1', 'r1', at(1)), e.grantCreated('g2', 'r2', at(30))]);

    const runtime = await s.start(new FixedClock(at(10)));

    // start() returns after the catch-up tick was acknowledged
    expect(runtime.ticker.fired).toBe(1);
    await eventually(() => expect(s.firedIds()).toEqual(['grant_expiry:g1']), { timeoutMs: 20_000 });
    expect(runtime.book.pendingCount).toBe(1);
  });

  it('rebuilds from a few thousand events (measured replay time)', async () => {
    const s = await setup('replay');
    const e = s.events;
    const grants = 3_000;
    const batch: Envelope[] = [];
    for (let i = 0; i < grants; i += 1) batch.push(e.grantCreated(`g${i}`, `r${i}`, at(1 + (i % 60))));
    for (let i = 0; i < batch.length; i += 500) await s.admin.publisher.publish(s.topics.grants, batch.slice(i, i + 500));

    const runtime = await s.start(new FixedClock(at(0)));

    expect(runtime.lastRebuild).toMatchObject({ events: grants, pending: grants });
    process.stdout.write(`scheduler replay: ${grants} events rebuilt in ${runtime.lastRebuild?.millis} ms (real broker, 3 input topics)\n`);
  });
});
