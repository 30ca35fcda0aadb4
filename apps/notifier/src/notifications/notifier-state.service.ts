import { Inject, Injectable } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { NotifierState, STATE_EVENTS } from '../domain';
import { notifierStateCodec } from './notifier-state.codec';

/**
 * The notifier state, rebuilt once per start from its newest snapshot and the approvals, grants and notifications
 * topics after it (or those topics from the beginning).
 */
@Injectable()
export class NotifierStateService extends ReplayedStateService<NotifierState> {
  constructor(@Inject(MESSAGE_BUS) bus: MessageBus, @Inject(EVENT_REGISTRY) registry: EventRegistry) {
    const state = new NotifierState();
    super(bus, registry, state, {
      events: STATE_EVENTS,
      name: 'notifier state',
      logContext: 'notifier',
      describe: () => ({ ...state.size }),
      snapshot: notifierStateCodec,
    });
  }
}
