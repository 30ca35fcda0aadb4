import { Inject, Injectable } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { ProvisioningState, STATE_EVENTS } from '../domain';
import { provisioningStateCodec } from './provisioning-state.codec';

export { STATE_EVENTS };

/** The provisioning state, rebuilt once per start from its newest snapshot and the log after it (or the whole log). */
@Injectable()
export class ProvisioningStateService extends ReplayedStateService<ProvisioningState> {
  constructor(@Inject(MESSAGE_BUS) bus: MessageBus, @Inject(EVENT_REGISTRY) registry: EventRegistry) {
    const state = new ProvisioningState();
    super(bus, registry, state, {
      events: STATE_EVENTS,
      name: 'provisioning state',
      logContext: 'provisioning',
      describe: () => ({ grants: state.size }),
      snapshot: provisioningStateCodec,
    });
  }
}
