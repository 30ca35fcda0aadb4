import { InProcessLeaseElector, LeaseNotHeldError } from '@grantline/messaging';
import type { BatchContext, BatchHandler, ConsumerOptions, EventHandler, MessageBus, MessageContext, RunningConsumer } from '@grantline/messaging';
import type { Envelope } from '@grantline/contracts';
import { leaseGuardedBus } from './lease-guarded-bus';

describe('leaseGuardedBus', () => {
  it('runs handlers only while the lease is held (by the clock), refusing retriably after; everything else is the bus', async () => {
    let registered: EventHandler | undefined;
    const bus = {
      connected: 'yes',
      consume: async (options: ConsumerOptions) => {
        registered = options.handler;
        return { groupId: options.groupId } as RunningConsumer;
      },
      metrics: function (this: { connected: string }) {
        return this.connected;
      },
    } as unknown as MessageBus & { connected: string };
    const elector = new InProcessLeaseElector();
    const lease = await elector.campaign({ name: 'svc', instanceId: 'me' });
    const handled: string[] = [];
    const guarded = leaseGuardedBus(bus, lease);
    await guarded.consume({ groupId: 'g', topics: ['t'], handler: async (event) => void handled.push(event.id) });
    expect(guarded.metrics()).toBe('yes');

    const event = { id: 'e1', type: 'iga.x.v1' } as Envelope;
    const context = {} as MessageContext;
    await registered?.(event, context);
    expect(handled).toEqual(['e1']);

    elector.revoke('svc', 'partition');
    await expect(registered?.({ ...event, id: 'e2' }, context)).rejects.toBeInstanceOf(LeaseNotHeldError);
    expect(handled).toEqual(['e1']);
  });
});

describe('leaseGuardedBus with a batch handler', () => {
  it('runs a batch only while the lease is held, refusing the whole batch retriably after', async () => {
    let registered: BatchHandler | undefined;
    const bus = {
      consume: async (options: ConsumerOptions) => {
        registered = options.batchHandler;
        return { groupId: options.groupId } as RunningConsumer;
      },
    } as unknown as MessageBus;
    const elector = new InProcessLeaseElector();
    const lease = await elector.campaign({ name: 'svc', instanceId: 'me' });
    const handled: string[] = [];
    await leaseGuardedBus(bus, lease).consume({ groupId: 'g', topics: ['t'], batchHandler: async (events) => void handled.push(...events.map((e) => e.id)) });

    const events = [{ id: 'e1' }, { id: 'e2' }] as Envelope[];
    const context = { topic: 't', partition: 0 } as BatchContext;
    await registered?.(events, context);
    expect(handled).toEqual(['e1', 'e2']);

    elector.revoke('svc', 'partition');
    await expect(registered?.([{ id: 'e3' } as Envelope], context)).rejects.toBeInstanceOf(LeaseNotHeldError);
    expect(handled).toEqual(['e1', 'e2']);
  });
});
