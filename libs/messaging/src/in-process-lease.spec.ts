import { InProcessLeaseElector } from './in-process-lease';
import { LeaseNotHeldError } from './lease';

describe('InProcessLeaseElector', () => {
  it('one holder per name; the others wait in arrival order and take over on release', async () => {
    const elector = new InProcessLeaseElector();
    const a = await elector.campaign({ name: 'provisioning', instanceId: 'a' });
    const b = await elector.campaign({ name: 'provisioning', instanceId: 'b' });
    const c = await elector.campaign({ name: 'provisioning', instanceId: 'c' });
    const other = await elector.campaign({ name: 'scheduler', instanceId: 'a' });

    await a.whenAcquired();
    await other.whenAcquired();
    expect([a.isHeld(), b.isHeld(), c.isHeld()]).toEqual([true, false, false]);
    expect(b.status()).toMatchObject({ state: 'standby' });
    expect(elector.holder('provisioning')).toBe('a');

    await a.release();
    await b.whenAcquired();
    expect(elector.holder('provisioning')).toBe('b');
    expect(c.isHeld()).toBe(false);
  });

  it('revoke: the holder is told at once that it lost the lease, and the next candidate gets it', async () => {
    const elector = new InProcessLeaseElector();
    const a = await elector.campaign({ name: 'p', instanceId: 'a' });
    const b = await elector.campaign({ name: 'p', instanceId: 'b' });
    const lost: string[] = [];
    a.onLost((reason) => lost.push(`${String(b.isHeld())}: ${reason}`));

    elector.revoke('p', 'network partition');

    // The old holder hears it before the next one holds it.
    expect(lost).toEqual(['false: network partition']);
    expect(a.status()).toMatchObject({ state: 'lost', reason: 'network partition' });
    await b.whenAcquired();
    expect(elector.holder('p')).toBe('b');
  });

  it('a candidate released before it was chosen is told so and never chosen', async () => {
    const elector = new InProcessLeaseElector();
    const a = await elector.campaign({ name: 'p', instanceId: 'a' });
    const b = await elector.campaign({ name: 'p', instanceId: 'b' });
    const c = await elector.campaign({ name: 'p', instanceId: 'c' });
    await b.release();
    await expect(b.whenAcquired()).rejects.toBeInstanceOf(LeaseNotHeldError);
    await a.release();
    await c.whenAcquired();
    expect(elector.holder('p')).toBe('c');
  });
});
