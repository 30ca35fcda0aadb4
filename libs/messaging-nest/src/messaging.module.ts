import { Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { registry as catalogue } from '@grantline/contracts';
import type { EventRegistry } from '@grantline/contracts';
import { KafkaMessageBus } from '@grantline/messaging';
import type { EventPublisher, MessageBus, MessagingLogger, TopicSpec } from '@grantline/messaging';

export const MESSAGE_BUS = Symbol('MESSAGE_BUS');
export const EVENT_PUBLISHER = Symbol('EVENT_PUBLISHER');
export const EVENT_REGISTRY = Symbol('EVENT_REGISTRY');
const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export interface MessagingModuleOptions {
  readonly clientId: string;
  /** Defaults to the comma-separated KAFKA_BROKERS environment variable. */
  readonly brokers?: readonly string[];
  readonly registry?: EventRegistry;
  readonly logger?: MessagingLogger;
  /** Topics this service needs; created at start-up when missing. */
  readonly topics?: readonly TopicSpec[];
  /** Supply another transport (another Kafka client, an embedded log) behind the same port. */
  readonly bus?: MessageBus;
}

export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env['KAFKA_BROKERS'];
  if (!raw) throw new Error('KAFKA_BROKERS is not set (comma-separated host:port list)');
  return raw
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

@Injectable()
export class MessagingLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.connect();
    if (this.options.topics?.length) await this.bus.ensureTopics(this.options.topics);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.disconnect();
  }
}

/**
 * Readiness of the service's messaging: the brokers answer and none of the bus's consumers is halted (an event type
 * this release does not know), stalled (a handler failing or no progress for too long) or crashed. A service that
 * cannot work off its partitions must not take traffic as if it could; the problems are in the indicator's details.
 */
@Injectable()
export class MessagingHealthIndicator {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy(key = 'kafka'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    const health = await this.bus.health();
    // Checked here as well as in `ok`: a transport that reports its consumers but does not fold them into `ok`
    // still fails closed.
    const problems = (health.consumers ?? []).flatMap((consumer) => consumer.problems.map((problem) => ({ groupId: consumer.groupId, ...problem })));
    if (health.ok && problems.length === 0) return indicator.up({ brokers: health.brokers });
    const detail = health.detail ?? (problems.length > 0 ? `${problems.length} consumer problem(s)` : 'no broker reachable');
    return indicator.down({ brokers: health.brokers, detail, ...(problems.length > 0 ? { consumers: problems } : {}) });
  }
}

/** Provides the message bus port, the publisher and a terminus health indicator to a service. */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    const registry = options.registry ?? catalogue;
    return {
      module: MessagingModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        { provide: EVENT_REGISTRY, useValue: registry },
        {
          provide: MESSAGE_BUS,
          useFactory: (): MessageBus =>
            options.bus ??
            new KafkaMessageBus({
              clientId: options.clientId,
              brokers: options.brokers ?? brokersFromEnv(),
              registry,
              ...(options.logger ? { logger: options.logger } : {}),
            }),
        },
        { provide: EVENT_PUBLISHER, useFactory: (bus: MessageBus): EventPublisher => bus.publisher, inject: [MESSAGE_BUS] },
        MessagingLifecycle,
        MessagingHealthIndicator,
      ],
      exports: [MESSAGE_BUS, EVENT_PUBLISHER, EVENT_REGISTRY, MessagingHealthIndicator],
    };
  }
}
