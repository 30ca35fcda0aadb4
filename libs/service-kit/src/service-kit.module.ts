import { Module, RequestMethod } from '@nestjs/common';
import type { DynamicModule, MiddlewareConsumer, NestModule } from '@nestjs/common';
import { MongooseModule, getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { MongoSnapshotStore } from './snapshots/mongo-snapshot-store';
import { TerminusModule } from '@nestjs/terminus';
import { registry, TOPICS } from '@grantline/contracts';
import { MessagingModule, STATE_SNAPSHOTS } from '@grantline/messaging-nest';
import type { StateSnapshotSettings } from '@grantline/messaging-nest';
import { KafkaMessageBus, StateReadinessRegistry } from '@grantline/messaging';
import type { TopicSpec } from '@grantline/messaging';
import type { DestinationStream } from 'pino';
import { loadServiceConfig } from './config/service-config.schema';
import type { ServiceConfig } from './config/service-config.schema';
import { SERVICE_CONFIG } from './config/service-config.token';
import { HealthCheckLogger } from './health/health-check.logger';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ServiceMetrics } from './metrics/service-metrics';
import { JsonLogger } from './logging/json-logger';
import { RequestLoggingMiddleware } from './logging/request-logging.middleware';

export interface ServiceKitOptions {
  readonly serviceName: string;
  /** Used when PORT is not set. */
  readonly defaultPort?: number;
  /**
   * Topics this service is the single writer of; created at start-up when missing. The dead-letter
   * topic is always added: every consumer may write to it.
   */
  readonly topics?: readonly (string | TopicSpec)[];
  /** Defaults to process.env; tests pass their own. */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to stdout; tests capture records here. */
  readonly logDestination?: DestinationStream;
}

/** How long start-up waits for MongoDB before failing (and being restarted by whoever runs it). */
const MONGO_SERVER_SELECTION_TIMEOUT_MS = 5_000;

function topicSpecs(topics: readonly (string | TopicSpec)[]): TopicSpec[] {
  const byName = new Map<string, TopicSpec>();
  for (const entry of [...topics, TOPICS.deadLetter]) {
    const spec = typeof entry === 'string' ? { topic: entry } : entry;
    if (!byName.has(spec.topic)) byName.set(spec.topic, spec);
  }
  return [...byName.values()];
}

/** Stands in for the kit when the environment is invalid, so the error surfaces when Nest builds the app, not at import. */
@Module({})
class InvalidServiceConfigModule {}

/**
 * Everything a Grantline service shares: validated configuration, the JSON logger, request
 * logging, its own MongoDB database, the Kafka message bus (with the topics it owns) and the
 * `/health/live` and `/health/ready` endpoints.
 */
@Module({})
export class ServiceKitModule implements NestModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    let config: ServiceConfig;
    try {
      config = loadServiceConfig(options.env ?? process.env, options);
    } catch (error) {
      return {
        module: InvalidServiceConfigModule,
        global: true,
        providers: [
          {
            provide: SERVICE_CONFIG,
            useFactory: (): never => {
              throw error;
            },
          },
        ],
        exports: [SERVICE_CONFIG],
      };
    }
    const logger = new JsonLogger({
      serviceName: config.serviceName,
      level: config.logLevel,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    const messagingLogger = logger.withContext('messaging');
    const metrics = new ServiceMetrics(config.serviceName);
    const bus = new KafkaMessageBus({
      clientId: config.serviceName,
      brokers: config.kafkaBrokers,
      registry,
      logger: messagingLogger,
      observer: metrics.observer,
      ...(config.kafkaNamespace === undefined ? {} : { namespace: config.kafkaNamespace }),
      ...(config.kafkaSasl === undefined ? {} : { sasl: config.kafkaSasl }),
    });
    metrics.attach(bus);
    return {
      module: ServiceKitModule,
      global: true,
      imports: [
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: HealthCheckLogger }),
        MongooseModule.forRootAsync({
          useFactory: () => ({
            uri: config.mongoUrl,
            dbName: config.mongoDb,
            appName: config.serviceName,
            // Read models declare their indexes in their schemas; FerretDB supports createIndexes.
            autoIndex: true,
            serverSelectionTimeoutMS: MONGO_SERVER_SELECTION_TIMEOUT_MS,
            retryAttempts: 2,
            retryDelay: 1_000,
          }),
        }),
        MessagingModule.forRoot({
          clientId: config.serviceName,
          registry,
          topics: topicSpecs(options.topics ?? []),
          // KafkaMessageBus.ensureTopics tolerates services creating shared topics at once.
          bus,
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: JsonLogger, useValue: logger },
        { provide: ServiceMetrics, useValue: metrics },
        // Every state holder of the service registers here: readiness reports them, the stop releases their waiters.
        // A factory, so each app built from this module (a restart in a spec) has its own.
        { provide: StateReadinessRegistry, useFactory: () => new StateReadinessRegistry() },
        {
          provide: STATE_SNAPSHOTS,
          useFactory: (connection: Connection): StateSnapshotSettings | undefined =>
            config.stateSnapshots === undefined ? undefined : { store: new MongoSnapshotStore(connection), ...config.stateSnapshots },
          inject: [getConnectionToken()],
        },
        RequestLoggingMiddleware,
      ],
      exports: [SERVICE_CONFIG, JsonLogger, StateReadinessRegistry, ServiceMetrics, STATE_SNAPSHOTS],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLoggingMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
