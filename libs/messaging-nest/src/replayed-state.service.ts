import { Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Envelope, EventDefinition, EventRegistry } from '@grantline/contracts';
import { ReplayedState } from '@grantline/messaging';
import type { LogPosition, MessageBus } from '@grantline/messaging';

export interface ReplayedStateServiceOptions {
  /** The events the state is folded from; their topics are replayed. */
  readonly events: readonly EventDefinition[];
  /** Names the state in log lines ("notifier state rebuilt"). */
  readonly name: string;
  /** The log context (usually the service name). */
  readonly logContext: string;
  /** Extra fields for the "rebuilt" log line (sizes). */
  readonly describe?: () => Record<string, unknown>;
}

/**
 * A service's in-memory state as a Nest provider: rebuilt once per start by replaying the topics of its events
 * from the beginning, then kept up to date by the handlers' live events. Handlers wait for `whenLoaded()`: the
 * transport may start consuming before Nest's bootstrap hooks run.
 */
export abstract class ReplayedStateService<TState extends { apply(event: Envelope): void }> implements OnApplicationBootstrap {
  private readonly replay: ReplayedState;

  protected constructor(
    bus: MessageBus,
    private readonly registry: EventRegistry,
    readonly state: TState,
    private readonly options: ReplayedStateServiceOptions,
  ) {
    const logger = new Logger(options.logContext);
    this.replay = new ReplayedState({
      bus,
      topics: () => this.topics(),
      apply: (event) => this.state.apply(event),
      logger: { info: (msg, fields) => logger.log({ msg, ...fields }), warn: (msg, fields) => logger.warn({ msg, ...fields }) },
      name: options.name,
      ...(options.describe ? { describe: options.describe } : {}),
    });
  }

  onApplicationBootstrap(): void {
    void this.whenLoaded();
  }

  topics(): string[] {
    return [...new Set(this.options.events.map((def) => this.registry.latestOf(def.name).topic))].sort();
  }

  whenLoaded(): Promise<void> {
    return this.replay.whenLoaded();
  }

  /** Applies a live event unless the start-up replay already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    this.replay.applyLive(event, position);
  }
}
