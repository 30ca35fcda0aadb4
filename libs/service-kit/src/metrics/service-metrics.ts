import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusHealth, HandlerTiming, MessageBus, MessagingObserver } from '@grantline/messaging';

/** Seconds; a handler usually takes milliseconds, a retried one can take minutes. */
const HANDLER_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The Prometheus registry of one service (never prom-client's global one: several services, or one restarted, can
 * share a process in specs). The kit fills it with the process's and the transport's metrics; a service adds its
 * own through `registry` (e.g. provisioning's overdue revocations), each named `grantline_*`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly handlerSeconds: Histogram<'group' | 'topic'>;
  private readonly handledEvents: Counter<'group' | 'topic'>;
  private bus: MessageBus | undefined;

  constructor(readonly serviceName: string) {
    this.registry.setDefaultLabels({ service: serviceName });
    // The standard process_* and nodejs_* names, so the usual Node.js dashboards work unchanged.
    collectDefaultMetrics({ register: this.registry });
    this.handlerSeconds = new Histogram({
      name: 'grantline_handler_duration_seconds',
      help: 'Time for a consumer handler call to succeed (one event, or one batch), retries included',
      labelNames: ['group', 'topic'],
      buckets: HANDLER_SECONDS_BUCKETS,
      registers: [this.registry],
    });
    this.handledEvents = new Counter({
      name: 'grantline_events_handled_total',
      help: 'Events handled by this service consumers, per consumer group and topic',
      labelNames: ['group', 'topic'],
      registers: [this.registry],
    });
    this.transportMetrics();
  }

  /** Handed to the bus: every successful handler call is timed here. */
  readonly observer: MessagingObserver = {
    handled: (timing: HandlerTiming): void => {
      const labels = { group: timing.groupId, topic: timing.topic };
      this.handlerSeconds.observe(labels, timing.seconds);
      this.handledEvents.inc(labels, timing.events);
    },
  };

  /** The bus whose totals and consumer positions are read at each scrape. */
  attach(bus: MessageBus): void {
    this.bus = bus;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private transportMetrics(): void {
    // collect() runs with `this` bound to the metric: the bus is read through this arrow function.
    const attachedBus = (): MessageBus | undefined => this.bus;
    const total = (name: string, help: string, read: (bus: MessageBus) => number): void => {
      let counted = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        // The transport keeps the running total; the counter catches up with it at each scrape.
        collect() {
          const bus = attachedBus();
          if (!bus) return;
          const now = read(bus);
          if (now > counted) this.inc(now - counted);
          counted = Math.max(counted, now);
        },
      });
    };
    total('grantline_messaging_published_events_total', 'Events this service published', (bus) => bus.metrics().published);
    total('grantline_messaging_retries_total', 'Handler failures retried (handlers are retried until they succeed)', (bus) => bus.metrics().retried);
    total('grantline_messaging_dead_lettered_events_total', 'Poison records this service sent to the dead-letter topic', (bus) => bus.metrics().deadLettered);
    total('grantline_messaging_duplicates_dropped_total', 'Records dropped as already handled', (bus) => bus.metrics().duplicatesDropped);
    total(
      'grantline_messaging_commit_failures_total',
      'Batches whose outputs or offsets could not be committed (delivered again)',
      (bus) => bus.metrics().commitFailures,
    );
    new Gauge({
      name: 'grantline_messaging_halted_partitions',
      help: 'Partitions halted on an event type or version this service does not know',
      registers: [this.registry],
      async collect() {
        this.set(
          haltedPartitions(
            await attachedBus()
              ?.health()
              .catch(() => undefined),
          ),
        );
      },
    });
    new Gauge({
      name: 'grantline_consumer_lag',
      help: 'Records waiting behind the committed position, per consumer group, topic and partition (as of the last fetch)',
      labelNames: ['group', 'topic', 'partition'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const health = await attachedBus()
          ?.health()
          .catch(() => undefined);
        for (const consumer of health?.consumers ?? []) {
          for (const position of consumer.partitions ?? []) {
            this.set({ group: consumer.groupId, topic: position.topic, partition: String(position.partition) }, position.lag);
          }
        }
      },
    });
  }
}

function haltedPartitions(health: BusHealth | undefined): number {
  return (health?.consumers ?? []).reduce((sum, consumer) => sum + consumer.problems.filter((problem) => problem.state === 'halted').length, 0);
}
