import { LeaseNotHeldError } from './lease';
import { LeaseKeeper } from './lease-keeper';
import type { LeaseTimers } from './lease-keeper';

/** A clock the spec moves by hand; timers fire when it passes their time. */
class ManualTimers implements LeaseTimers {
  private time = 1_000_000;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].callback();
    }
    this.time = target;
  }

  /** Moves the clock without running the timers: an event loop busy elsewhere. */
  jump(ms: number): void {
    this.time += ms;
  }

  get armed(): number {
    return this.pending.size;
  }
}

const SESSION = 10_000;
const MARGIN = 3_000;

describe('LeaseKeeper (the elector logic)', () => {
  let timers: ManualTimers;
  let keeper: LeaseKeeper;
  let lost: string[];

  beforeEach(() => {
    timers = new ManualTimers();
    keeper = new LeaseKeeper({ name: 'provisioning', instanceId: 'a', sessionTimeoutMs: SESSION, safetyMarginMs: MARGIN, timers });
    lost = [];
    keeper.onLost((reason) => lost.push(reason));
  });

  it('is a standby until the coordinator assigns it the lease, then held until session - margin after the join began', async () => {
    expect(keeper.status()).toMatchObject({ state: 'standby', name: 'provisioning', instanceId: 'a' });
    keeper.assignment(false, timers.now());
    expect(keeper.isHeld()).toBe(false);

    const joinStarted = timers.now();
    timers.advance(200);
    keeper.assignment(true, joinStarted);
    await expect(keeper.whenAcquired()).resolves.toBeUndefined();
    expect(keeper.isHeld()).toBe(true);
    expect(keeper.validUntil()).toBe(joinStarted + SESSION - MARGIN);
    expect(keeper.status()).toMatchObject({ state: 'held', validUntil: new Date(joinStarted + SESSION - MARGIN).toISOString() });
    expect(keeper.claim()).toEqual({ holding: true, eligible: true });
  });

  it('each accepted heartbeat renews the lease from the time it was sent', () => {
    keeper.assignment(true, timers.now());
    for (let i = 0; i < 20; i += 1) {
      timers.advance(1_000);
      keeper.confirmed(timers.now() - 50);
    }
    expect(keeper.state).toBe('held');
    expect(keeper.validUntil()).toBe(timers.now() - 50 + SESSION - MARGIN);
    expect(lost).toEqual([]);
  });

  it('a holder that hears nothing (a network partition) loses the lease before the coordinator could hand it on, and says so once', () => {
    keeper.assignment(true, timers.now());
    const lastSent = timers.now() + 1_000;
    timers.advance(1_500);
    keeper.confirmed(lastSent);
    // Silence: heartbeats fail or never come back.
    timers.advance(SESSION - MARGIN - 500 - 1);
    expect(keeper.state).toBe('held');
    timers.advance(1);
    expect(keeper.state).toBe('lost');
    expect(keeper.isHeld()).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/no word from the coordinator for 7000 ms/);
    // The coordinator expires the member at lastSent + SESSION at the earliest: the holder stopped MARGIN before.
    expect(timers.now()).toBe(lastSent + SESSION - MARGIN);
    // Terminal: a late confirmation or assignment changes nothing, and it no longer campaigns.
    keeper.confirmed(timers.now());
    keeper.assignment(true, timers.now());
    expect(keeper.state).toBe('lost');
    expect(keeper.claim()).toEqual({ holding: false, eligible: false });
    expect(lost).toHaveLength(1);
  });

  it('isHeld() reads the clock: false once the time is up even before the fence timer ran (a busy event loop)', () => {
    keeper.assignment(true, timers.now());
    timers.jump((keeper.validUntil() as number) - timers.now());
    expect(keeper.state).toBe('held');
    expect(keeper.isHeld()).toBe(false);
    expect(keeper.claim().holding).toBe(false);
  });

  it('a rebalance that gives the lease to another member loses it at once', () => {
    keeper.assignment(true, timers.now());
    timers.advance(1_000);
    keeper.assignment(false, timers.now());
    expect(keeper.state).toBe('lost');
    expect(lost).toEqual(['the coordinator gave the lease to another instance']);
  });

  it('a rebalance that keeps it renews it from the start of the rejoin', () => {
    keeper.assignment(true, timers.now());
    timers.advance(2_000);
    const rejoin = timers.now();
    timers.advance(300);
    keeper.assignment(true, rejoin);
    expect(keeper.state).toBe('held');
    expect(keeper.validUntil()).toBe(rejoin + SESSION - MARGIN);
  });

  it('a crashed or stopped client loses a held lease; for a standby it is only the reason it is not campaigning', () => {
    keeper.failed('the lease client crashed: broker gone');
    expect(keeper.status()).toMatchObject({ state: 'standby', reason: 'the lease client crashed: broker gone' });
    keeper.campaigning();
    expect(keeper.status().reason).toBeUndefined();

    keeper.assignment(true, timers.now());
    keeper.failed('the lease client stopped');
    expect(keeper.state).toBe('lost');
    expect(lost).toEqual(['the lease client stopped']);
  });

  it('a join that took longer than the lease is worth waits for a heartbeat instead of acting on a stale assignment', async () => {
    const joinStarted = timers.now();
    timers.advance(SESSION);
    keeper.assignment(true, joinStarted);
    expect(keeper.state).toBe('standby');
    keeper.confirmed(timers.now() - 10);
    await keeper.whenAcquired();
    expect(keeper.isHeld()).toBe(true);
  });

  it('an assignment with less left than the minimum to act on waits for a heartbeat (a join that waited out the last holder)', async () => {
    const cautious = new LeaseKeeper({ name: 'audit', instanceId: 'b', sessionTimeoutMs: SESSION, safetyMarginMs: MARGIN, minimumToActMs: 2_000, timers });
    const joinStarted = timers.now();
    timers.advance(SESSION - MARGIN - 100);
    cautious.assignment(true, joinStarted);
    expect(cautious.state).toBe('standby');
    timers.advance(500);
    expect(cautious.state).toBe('standby');
    cautious.confirmed(timers.now());
    await cautious.whenAcquired();
    expect(cautious.isHeld()).toBe(true);
  });

  it('heartbeats before any assignment confirm nothing', () => {
    keeper.confirmed(timers.now());
    expect(keeper.state).toBe('standby');
    expect(keeper.validUntil()).toBeUndefined();
  });

  it('release ends a candidacy (waiters are told) or a held lease without calling the lost listeners, and disarms the fence', async () => {
    const waiting = keeper.whenAcquired();
    const released = jest.fn(async () => undefined);
    const other = new LeaseKeeper({ name: 'p', instanceId: 'b', sessionTimeoutMs: SESSION, safetyMarginMs: MARGIN, timers, onRelease: released });
    other.assignment(true, timers.now());
    expect(timers.armed).toBe(1);
    await other.release();
    await other.release();
    expect(released).toHaveBeenCalledTimes(1);
    expect(other.state).toBe('released');
    expect(timers.armed).toBe(0);

    await keeper.release();
    await expect(waiting).rejects.toBeInstanceOf(LeaseNotHeldError);
    expect(keeper.claim().eligible).toBe(false);
    expect(lost).toEqual([]);
  });

  it('an infinite session never expires (the in-process lease)', () => {
    const forever = new LeaseKeeper({ name: 'p', instanceId: 'c', sessionTimeoutMs: Number.POSITIVE_INFINITY, safetyMarginMs: 0, timers });
    forever.assignment(true, timers.now());
    timers.advance(1e12);
    expect(forever.isHeld()).toBe(true);
    expect(forever.status().validUntil).toBeUndefined();
    expect(timers.armed).toBe(0);
  });

  it('refuses a margin that leaves no lease', () => {
    expect(() => new LeaseKeeper({ name: 'p', instanceId: 'd', sessionTimeoutMs: 1_000, safetyMarginMs: 1_000, timers })).toThrow(RangeError);
  });
});
