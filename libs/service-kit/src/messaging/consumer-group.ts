import type { EventRegistry, Envelope } from '@grantline/contracts';
import { StateReadinessRegistry } from '@grantline/messaging';
import type { ClosableState, MessageBus, RetryPolicy } from '@grantline/messaging';
import type { EventHandlerResult, KafkaEventContext, KafkaEventTransport } from '@grantline/messaging-nest';
import type { RunningService, StartServiceOptions } from '../bootstrap/bootstrap-service';
import { TopicEnsuringKafkaEventTransport } from './topic-ensuring.transport';

/** One event type's handler in a consumer group of its own; it returns what the transport publishes, like an `@EventPattern` handler. */
export type GroupEventHandler = (event: Envelope, context: KafkaEventContext) => Promise<EventHandlerResult>;

export interface ConsumerGroupOptions {
  /** The group is `<service's group>.<suffix>`, so it follows the service's group (and namespace) wherever it runs. */
  readonly suffix: string;
  /** Event type (latest version) → handler; the topics to consume derive from the types, as for `@EventPattern`. */
  readonly handlers: Readonly<Record<string, GroupEventHandler>>;
  readonly retry?: Partial<RetryPolicy>;
  readonly partitionsConsumedConcurrently?: number;
}

export interface ConsumerGroupDeps {
  readonly bus: MessageBus;
  readonly registry: EventRegistry;
  /** The service's registry: the group registers itself there, so readiness reports it and a stopping service closes it. */
  readonly states: StateReadinessRegistry;
}

/**
 * A second consumer of a service, in a consumer group of its own, with its own topics: work on those topics never
 * queues behind the main group's backlog. `startService` runs one group, over every `@EventPattern` of the app's
 * controllers; a ConsumerGroup is a provider instead (its handlers are plain functions, so the main group never
 * subscribes to its topics) and a second KafkaEventTransport on the same bus: same decoding, dispatch, retries,
 * dead-lettering and output publication as the main one.
 *
 * Readiness: the group is a state of the service. It is not ready until `startConsumerGroups` started it, nor after it
 * was closed; while it runs, the bus reports its consumer's problems (halted, stalled, crashed) under `kafka` with
 * those of the main group. `startService`'s stop closes it with the other states, beside the main consumer, before
 * the app (and the bus) close.
 */
export class ConsumerGroup implements ClosableState {
  private transport: KafkaEventTransport | undefined;
  private started: Promise<void> | undefined;
  private running = false;
  private closed = false;
  private error: string | undefined;
  private groupId: string | undefined;

  constructor(
    private readonly deps: ConsumerGroupDeps,
    private readonly options: ConsumerGroupOptions,
  ) {
    deps.states.register(this);
  }

  get name(): string {
    return `consumer group ${this.groupId ?? `<service group>.${this.options.suffix}`}`;
  }

  isReady(): boolean {
    return this.running && !this.closed;
  }

  get lastError(): string | undefined {
    if (this.isReady()) return undefined;
    return this.error ?? (this.closed ? 'closed' : this.started ? 'subscribing' : 'not started');
  }

  /** Subscribes as `<main.groupId>.<suffix>`; a new group starts where the main group would (`fromBeginning`). */
  start(main: MainGroup): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.name} is closed`));
    this.started ??= this.subscribe(main);
    return this.started;
  }

  private async subscribe(main: MainGroup): Promise<void> {
    this.groupId = `${main.groupId}.${this.options.suffix}`;
    const transport = new TopicEnsuringKafkaEventTransport({
      bus: this.deps.bus,
      registry: this.deps.registry,
      groupId: this.groupId,
      ...(main.fromBeginning === undefined ? {} : { fromBeginning: main.fromBeginning }),
      ...(main.stallAfterMs === undefined ? {} : { stallAfterMs: main.stallAfterMs }),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.partitionsConsumedConcurrently === undefined ? {} : { partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently }),
    });
    for (const [type, handler] of Object.entries(this.options.handlers)) {
      transport.addHandler(type, (event: Envelope, context: KafkaEventContext) => handler(event, context), true);
    }
    this.transport = transport;
    try {
      await new Promise<void>((resolve, reject) => transport.listen((error?: unknown) => (error === undefined ? resolve() : reject(error))));
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
    this.running = true;
  }

  /** Resolves once the group has processed everything on its topics so far (specs, readiness helpers). */
  async whenCaughtUp(timeoutMs?: number): Promise<void> {
    await this.transport?.whenCaughtUp(timeoutMs);
  }

  /** Stops consuming (the batch in flight finishes and commits); waits for a start still subscribing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.started?.catch(() => undefined);
    const transport = this.transport;
    this.transport = undefined;
    this.running = false;
    await transport?.close();
  }
}

/** What a group takes from the service's main consumer group. */
interface MainGroup {
  readonly groupId: string;
  readonly fromBeginning?: boolean;
  readonly stallAfterMs?: number;
}

/**
 * Starts every ConsumerGroup the app registered, named after the service's own group: call it with the options
 * given to `startService` / `bootstrapService`, right after. Until it is called the groups are not ready, so
 * neither is the service. Not for services with a lease (their consumers run only while the lease is held).
 */
export async function startConsumerGroups(service: RunningService, options: Pick<StartServiceOptions, 'groupId' | 'fromBeginning' | 'lease'>): Promise<void> {
  const groups = service.app
    .get(StateReadinessRegistry, { strict: false })
    .all()
    .filter((state): state is ConsumerGroup => state instanceof ConsumerGroup);
  if (groups.length === 0) return;
  if (options.lease || service.lease) throw new Error('consumer groups beside the main one are not supported for a service with a lease');
  const groupId = options.groupId ?? service.config.serviceName;
  const main: MainGroup = {
    groupId,
    stallAfterMs: service.config.consumerStallAfterMs,
    ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
  };
  await Promise.all(groups.map((group) => group.start(main)));
}
