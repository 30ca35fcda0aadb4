import { LeaseNotHeldError } from '@grantline/messaging';
import type { ConsumerOptions, Lease, MessageBus, RunningConsumer } from '@grantline/messaging';

/**
 * The bus a leased service's consumers run on: every handler first checks, by the clock, that this instance still
 * holds the lease, and refuses (retriably: the message stays uncommitted for the next holder) when it does not.
 * The loss itself stops the consumers at once; this covers the moment in between, e.g. a fence timer that runs late.
 * Everything else goes to the bus unchanged.
 */
export function leaseGuardedBus(bus: MessageBus, lease: Lease): MessageBus {
  const refusal = (what: string): LeaseNotHeldError =>
    new LeaseNotHeldError(`the ${lease.name} lease is not held by ${lease.instanceId} (${lease.status().state}); not handling ${what}`);
  const consume = (options: ConsumerOptions): Promise<RunningConsumer> => {
    if (options.batchHandler !== undefined) {
      const { batchHandler } = options;
      return bus.consume({
        ...options,
        batchHandler: (events, context) =>
          lease.isHeld() ? batchHandler(events, context) : Promise.reject(refusal(`a batch of ${events.length} from ${context.topic}/${context.partition}`)),
      });
    }
    const { handler } = options;
    return bus.consume({
      ...options,
      handler: (event, context) => (lease.isHeld() ? handler(event, context) : Promise.reject(refusal(event.type))),
    });
  };
  return new Proxy(bus, {
    get(target, property) {
      if (property === 'consume') return consume;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
