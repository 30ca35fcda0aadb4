import type { Envelope } from '@grantline/contracts';
import type { MessagingLogger } from './logger';
import type { MessageBus } from './ports';

/** Where an event sits in the log. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ReplayedStateOptions {
  readonly bus: Pick<MessageBus, 'replay'>;
  /** The topics the state is folded from (logical names). */
  readonly topics: () => readonly string[];
  /** Folds one event into the state; must be idempotent for the same event. */
  readonly apply: (event: Envelope) => void;
  readonly logger: Pick<MessagingLogger, 'info' | 'warn'>;
  /** Names the state in log lines ("provisioning state rebuilt"). */
  readonly name: string;
  /** Extra fields for the "rebuilt" log line (sizes). */
  readonly describe?: () => Record<string, unknown>;
}

/**
 * In-memory state a service rebuilds at every start by replaying its topics from the beginning, then keeps up to
 * date from its live consumer. The live consumer may start before (or while) the replay runs; an event the replay
 * already folded (same topic/partition, offset not beyond the replay's) is not folded twice.
 */
export class ReplayedState {
  /** Highest offset the replay folded per topic/partition. */
  private readonly replayed = new Map<string, bigint>();
  private loading: Promise<void> | undefined;

  constructor(private readonly options: ReplayedStateOptions) {}

  /** Starts the replay once; every caller waits for the same one. */
  whenLoaded(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  /** Folds a live event unless the start-up replay already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    const seen = this.replayed.get(`${position.topic}/${position.partition}`);
    if (seen !== undefined && BigInt(position.offset) <= seen) return;
    this.options.apply(event);
  }

  private async load(): Promise<void> {
    const { bus, logger, name } = this.options;
    const started = Date.now();
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      logger.warn(`skipping an undecodable record while rebuilding ${name}`, { ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => {
      this.options.apply(event);
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      if ((this.replayed.get(key) ?? -1n) < offset) this.replayed.set(key, offset);
    };
    let events = 0;
    for (const topic of this.options.topics()) {
      // One topic at a time: a topic whose writer never started may not exist yet, and that must not hide the others.
      events += await bus.replay({ topics: [topic], handler, onInvalid }).catch((error: unknown) => {
        logger.warn(`cannot replay ${topic}; starting ${name} without it`, { topic, error: String(error) });
        return 0;
      });
    }
    logger.info(`${name} rebuilt`, { events, ...this.options.describe?.(), ms: Date.now() - started });
  }
}
