import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { NotifierState, STATE_EVENTS } from '../domain';

export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Holds the notifier state and rebuilds it once per start by replaying the approvals, grants and
 * notifications topics from the beginning. Handlers wait for it: the transport may start consuming
 * before Nest's bootstrap hooks run.
 */
@Injectable()
export class NotifierStateService implements OnApplicationBootstrap {
  readonly state = new NotifierState();
  /** Highest offset the replay applied per topic/partition: a live copy of an already applied event is not applied twice. */
  private readonly replayed = new Map<string, bigint>();
  private loading: Promise<void> | undefined;
  private readonly logger = new Logger('notifier');

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  onApplicationBootstrap(): void {
    void this.whenLoaded();
  }

  topics(): string[] {
    return [...new Set(STATE_EVENTS.map((def) => this.registry.latestOf(def.name).topic))].sort();
  }

  whenLoaded(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  /** Applies a live event unless the start-up replay already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    const seen = this.replayed.get(`${position.topic}/${position.partition}`);
    if (seen !== undefined && BigInt(position.offset) <= seen) return;
    this.state.apply(event);
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      this.logger.warn({ msg: 'skipping an undecodable record while rebuilding notifier state', ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => {
      this.state.apply(event);
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      if ((this.replayed.get(key) ?? -1n) < offset) this.replayed.set(key, offset);
    };
    let events = 0;
    for (const topic of this.topics()) {
      // One topic at a time: a topic whose writer never started may not exist yet, and that must not hide the others.
      events += await this.bus.replay({ topics: [topic], handler, onInvalid }).catch((error: unknown) => {
        this.logger.warn({ msg: 'cannot replay topic; starting without its state', topic, error: String(error) });
        return 0;
      });
    }
    this.logger.log({ msg: 'notifier state rebuilt', events, ...this.state.size, ms: Date.now() - started });
  }
}
