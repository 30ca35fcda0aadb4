import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { ReplayedState } from '@grantline/messaging';
import type { LogPosition, MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { NotifierState, STATE_EVENTS } from '../domain';

/**
 * Holds the notifier state and rebuilds it once per start by replaying the approvals, grants and
 * notifications topics from the beginning. Handlers wait for it: the transport may start consuming
 * before Nest's bootstrap hooks run.
 */
@Injectable()
export class NotifierStateService implements OnApplicationBootstrap {
  readonly state = new NotifierState();
  private readonly replay: ReplayedState;
  private readonly logger = new Logger('notifier');

  constructor(
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {
    this.replay = new ReplayedState({
      bus,
      topics: () => this.topics(),
      apply: (event) => this.state.apply(event),
      logger: { info: (msg, fields) => this.logger.log({ msg, ...fields }), warn: (msg, fields) => this.logger.warn({ msg, ...fields }) },
      name: 'notifier state',
      describe: () => ({ ...this.state.size }),
    });
  }

  onApplicationBootstrap(): void {
    void this.whenLoaded();
  }

  topics(): string[] {
    return [...new Set(STATE_EVENTS.map((def) => this.registry.latestOf(def.name).topic))].sort();
  }

  whenLoaded(): Promise<void> {
    return this.replay.whenLoaded();
  }

  /** Applies a live event unless the start-up replay already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    this.replay.applyLive(event, position);
  }
}
