import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import type { Lease } from '../lease';
import { silentLogger } from '../logger';
import { testRegistry } from '../testing/test-events';
import { KafkaMessageBus } from './kafka-bus';
import { KafkaLeaseElector, leaseTimings } from './kafka-lease';

const { kafkaBrokers } = infraEndpoints();
/** The broker's smallest session timeout by default: the fastest takeover it allows. */
const SESSION_TIMEOUT_MS = 6_000;

describe('KafkaLeaseElector against a real broker', () => {
  const namespace = uniqueName('lease').replace(/_/g, '-');
  const electors: KafkaLeaseElector[] = [];
  const children: ChildProcess[] = [];
  const elector = (): KafkaLeaseElector => {
    const created = new KafkaLeaseElector({
      clientId: uniqueName('lease-spec'),
      brokers: kafkaBrokers,
      namespace,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      logger: silentLogger,
    });
    electors.push(created);
    return created;
  };
  const held = (leases: readonly Lease[]): boolean[] => leases.map((lease) => lease.isHeld());

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(electors.map((e) => e.close()));
    const bus = new KafkaMessageBus({
      clientId: uniqueName('lease-cleanup'),
      brokers: kafkaBrokers,
      registry: testRegistry('x', 'y').registry,
      logger: silentLogger,
      namespace,
    });
    // Topics go first; a group the broker still counts a killed member in may refuse to go, which is harmless.
    await bus.deleteNamespace().catch(() => undefined);
    await bus.disconnect();
  });

  it('one holder per lease; a candidate joining later does not move it; a release hands it over at once to the longest-waiting standby', async () => {
    const a = await elector().campaign({ name: 'sticky', instanceId: 'a' });
    await a.whenAcquired();
    const b = await elector().campaign({ name: 'sticky', instanceId: 'b' });
    // campaign() resolves after this candidate's first join, i.e. after the whole group (the holder too) rejoined.
    const c = await elector().campaign({ name: 'sticky', instanceId: 'c' });
    expect(held([a, b, c])).toEqual([true, false, false]);
    expect(b.status()).toMatchObject({ state: 'standby' });
    // The holder keeps renewing through (and after) the rebalances the newcomers caused.
    const until = Date.parse(a.status().validUntil ?? '');
    await eventually(() => expect(Date.parse(a.status().validUntil ?? '')).toBeGreaterThan(until), { timeoutMs: 10_000 });
    expect(held([a, b, c])).toEqual([true, false, false]);

    const released = Date.now();
    await a.release();
    await b.whenAcquired();
    const handoverMs = Date.now() - released;
    expect(held([a, b, c])).toEqual([false, true, false]);
    expect(a.status().state).toBe('released');
    // A graceful handover does not wait for any timeout.
    expect(handoverMs).toBeLessThan(SESSION_TIMEOUT_MS);
  }, 60_000);

  /** A candidate in its own process; resolves once it holds the lease. */
  async function holderProcess(lease: string): Promise<{ child: ChildProcess; lines: string[]; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../testing/lease-process.ts')], {
      env: {
        ...process.env,
        KAFKA_BROKERS: kafkaBrokers.join(','),
        SPEC_NAMESPACE: namespace,
        SPEC_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
        SPEC_LEASE: lease,
        SPEC_INSTANCE: 'child',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines: string[] = [];
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    await eventually(() => expect(lines.some((line) => line.includes('"held"'))).toBe(true), { timeoutMs: 45_000, intervalMs: 100 });
    return { child, lines, exited };
  }

  it('a holder killed with SIGKILL: the standby takes over once the broker drops it, within the session timeout and a few heartbeats', async () => {
    const { child } = await holderProcess('killed');
    const standby = await elector().campaign({ name: 'killed', instanceId: 'standby' });
    expect(standby.isHeld()).toBe(false);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await standby.whenAcquired();
    const takeoverMs = Date.now() - killedAt;
    const { heartbeatIntervalMs } = leaseTimings(SESSION_TIMEOUT_MS);
    process.stdout.write(`lease takeover after SIGKILL: ${takeoverMs} ms (session timeout ${SESSION_TIMEOUT_MS} ms)\n`);
    // The broker keeps the dead member for its session timeout (counted from its last heartbeat), then rebalances.
    expect(takeoverMs).toBeGreaterThan(SESSION_TIMEOUT_MS - 2 * heartbeatIntervalMs);
    expect(takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS + 5_000);
    expect(standby.isHeld()).toBe(true);
  }, 90_000);

  it('a holder cut off (frozen with SIGSTOP, as by a partition or a long pause) learns it lost the lease first thing when it resumes, after the standby took over', async () => {
    const { child, lines, exited } = await holderProcess('frozen');
    const standby = await elector().campaign({ name: 'frozen', instanceId: 'standby' });
    child.kill('SIGSTOP');
    await standby.whenAcquired();
    child.kill('SIGCONT');
    // Its fence ran out while it was frozen: the first thing it does is give up (and exit, as a service does).
    expect(await exited).toBe(3);
    expect(lines.at(-1)).toContain('"lost"');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ state: 'lost', reason: expect.stringMatching(/no word from the coordinator/) });
    expect(standby.isHeld()).toBe(true);
  }, 90_000);
});
