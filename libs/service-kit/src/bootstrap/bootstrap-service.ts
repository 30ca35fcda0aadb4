import { SwaggerModule } from '@nestjs/swagger';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, Type } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { EventRegistry } from '@grantline/contracts';
import { LeaseNotHeldError, StateReadinessRegistry } from '@grantline/messaging';
import type { Lease, MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import type { KafkaEventTransport } from '@grantline/messaging-nest';
import type { KafkaEventTransportOptions } from '@grantline/messaging-nest';
import { loadServiceConfig, ServiceConfigError } from '../config/service-config.schema';
import type { ServiceConfig } from '../config/service-config.schema';
import { SERVICE_CONFIG } from '../config/service-config.token';
import { JsonLogger } from '../logging/json-logger';
import { TopicEnsuringKafkaEventTransport } from '../messaging/topic-ensuring.transport';
import { loadLeaseConfig } from '../lease/lease.config';
import { startLeased } from '../lease/leased-service';
import type { ServiceLeaseOptions } from '../lease/leased-service';
import { startTelemetry } from '../telemetry/telemetry';
import { buildServiceOpenApiDocument } from '../openapi/service-openapi';

/** The exit code of a process that lost its lease: a temporary failure, restart it (it comes back as a standby). */
export const LEASE_LOST_EXIT_CODE = 75;

export interface StartServiceOptions {
  readonly serviceName: string;
  /** Used when PORT is not set; keep it equal to the one given to ServiceKitModule.forRoot. */
  readonly defaultPort?: number;
  /** Kafka consumer group; every instance of a service shares one. Defaults to the service name. */
  readonly groupId?: string;
  /** Consume -> decide -> produce in one Kafka transaction with the consumed offsets. */
  readonly transactional?: boolean;
  readonly fromBeginning?: boolean;
  readonly retry?: KafkaEventTransportOptions['retry'];
  readonly partitionsConsumedConcurrently?: number;
  /** Serve the OpenAPI document at /docs (default true). */
  readonly openApi?: boolean;
  /** Connectors whose per-connector topics this service consumes (see KafkaEventTransportOptions). */
  readonly connectorIds?: readonly string[];
  /**
   * One active instance (ADR 0012), for services that rebuild their state by replay and follow every partition:
   * the instance campaigns for the service's lease and waits as a standby — HTTP up, `/health/live` 200,
   * `/health/ready` 503 "standby: another instance holds the lease", no state loading, no consumers — until it holds
   * it. `true`: the Kafka lease, configured from the environment (SERVICE_LEASE_SESSION_TIMEOUT_MS, SERVICE_INSTANCE_ID).
   */
  readonly lease?: boolean | ServiceLeaseOptions;
}

export interface RunningService {
  readonly app: INestApplication;
  readonly config: ServiceConfig;
  readonly logger: JsonLogger;
  /** Where the HTTP API listens, e.g. http://127.0.0.1:3101 (the real port when PORT=0). */
  readonly url: string;
  /**
   * Resolves once the instance does its work: at once without a lease; with one, once it holds it and its consumers
   * run (a standby waits here). Rejects when the start fails, or the service stops first (LeaseNotHeldError).
   */
  readonly active: Promise<void>;
  /** The lease of a service started with `lease` (its status says standby, held or lost). */
  readonly lease?: Lease;
  /** Stops consuming (the in-flight batch finishes and commits), then closes HTTP, Kafka and MongoDB (and releases the lease last). */
  stop(): Promise<void>;
}

/**
 * Creates and starts a service: HTTP API, Kafka consumers (the app's `@EventPattern` handlers),
 * listening on HOST:PORT. No process-level concerns (signals, exit codes): `bootstrapService` adds those.
 */
export async function startService(appModule: Type<unknown>, options: StartServiceOptions): Promise<RunningService> {
  startTelemetry(options.serviceName);
  const app = await NestFactory.create(appModule, { bufferLogs: true, abortOnError: false });
  let transport: KafkaEventTransport | undefined;
  try {
    const logger = app.get(JsonLogger);
    app.useLogger(logger);
    app.flushLogs();
    const config = app.get<ServiceConfig>(SERVICE_CONFIG);
    const groupId = options.groupId ?? config.serviceName;
    const states = app.get(StateReadinessRegistry, { strict: false });
    /** The HTTP documentation and the consumers (the app's `@EventPattern` handlers) on `bus`. */
    const wire = (bus: MessageBus): KafkaEventTransport => {
      transport = new TopicEnsuringKafkaEventTransport({
        bus,
        registry: app.get<EventRegistry>(EVENT_REGISTRY),
        groupId,
        ...(options.transactional !== undefined ? { transactional: options.transactional } : {}),
        ...(options.fromBeginning !== undefined ? { fromBeginning: options.fromBeginning } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.partitionsConsumedConcurrently !== undefined ? { partitionsConsumedConcurrently: options.partitionsConsumedConcurrently } : {}),
        ...(options.connectorIds ? { connectorIds: options.connectorIds } : {}),
        stallAfterMs: config.consumerStallAfterMs,
      });
      if (options.openApi !== false) {
        // Every service documents its HTTP API at /docs (JSON at /docs-json).
        SwaggerModule.setup('docs', app, buildServiceOpenApiDocument(app, options.serviceName));
      }
      app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
      return transport;
    };

    if (options.lease) {
      const leased = await startLeased({
        app,
        config,
        logger,
        states,
        groupId,
        bus: app.get<MessageBus>(MESSAGE_BUS),
        settings: options.lease === true ? {} : options.lease,
        activate: async (bus) => {
          const consumer = wire(bus);
          // Initialised first: a consumer may hand an event to the app only once every lifecycle hook has run (the
          // CQRS buses register their handlers at bootstrap; a command sent before that is refused).
          await app.init();
          await app.startAllMicroservices();
          return consumer;
        },
      });
      return { app, config, logger, url: leased.url, active: leased.active, lease: leased.lease, stop: leased.stop };
    }

    const consumer = wire(app.get<MessageBus>(MESSAGE_BUS));
    await app.init();
    await app.startAllMicroservices();
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
    logger.log({ msg: 'ready', port: address.port, host: config.host, url, groupId }, 'bootstrap');
    let stopping: Promise<void> | undefined;
    return {
      app,
      config,
      logger,
      url,
      active: Promise.resolve(),
      stop: () => {
        stopping ??= (async () => {
          // Stop taking new messages first, so nothing is consumed while HTTP and MongoDB go away.
          const consumerClosed = consumer.close();
          // A handler waiting for a state that has not loaded would hold that stop forever: release it (its message
          // stays uncommitted for the next owner).
          const statesClosed = states.closeAll();
          await consumerClosed;
          await statesClosed;
          await app.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await transport?.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw error;
  }
}

export interface BootstrapOptions extends StartServiceOptions {
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Entry point of every service's main.ts. Fails fast (exit 1, one JSON line naming the problem) on
 * a bad environment or an unreachable dependency; on SIGTERM/SIGINT stops consuming, drains and
 * exits 0, or exits 1 if that takes longer than SHUTDOWN_TIMEOUT_MS.
 *
 * Nest's `enableShutdownHooks()` is not used: after closing it re-raises the signal, so the process
 * would end "killed by SIGTERM" instead of exiting 0, and it cannot bound the time a close takes.
 */
export async function bootstrapService(appModule: Type<unknown>, options: BootstrapOptions): Promise<RunningService | undefined> {
  let config: ServiceConfig;
  let lease: ServiceLeaseOptions | undefined;
  try {
    config = loadServiceConfig(options.env ?? process.env, options);
    if (options.lease) {
      const fromEnv = loadLeaseConfig(options.env ?? process.env);
      lease = { ...fromEnv, ...(options.lease === true ? {} : options.lease) };
    }
  } catch (error) {
    const logger = new JsonLogger({ serviceName: options.serviceName, context: 'bootstrap' });
    if (error instanceof ServiceConfigError) logger.fatal(error.message, { problems: error.problems });
    else logger.fatal('cannot read configuration', error);
    process.exit(1);
  }
  const logger = new JsonLogger({ serviceName: config.serviceName, level: config.logLevel, context: 'bootstrap' });

  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', { reason: String(reason) }));
  // Warnings become JSON records too (start them with --no-warnings to drop Node's plain-text copy).
  // kafkajs 2.2.4 arms a timer with a negative delay on Node >= 23, which Node clamps to 1 ms: noise.
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') logger.debug(warning.message, { warning: warning.name });
    else logger.warn(warning.message, { warning: warning.name });
  });

  if (lease) {
    lease = {
      ...lease,
      // Fail closed and simple (ADR 0012): whatever the process was doing stops with it, at once; the orchestrator
      // restarts it and it comes back as a standby.
      onLost: (reason) => {
        logger.fatal('lease lost: exiting now so that this instance cannot act beside the next active one', { reason, exitCode: LEASE_LOST_EXIT_CODE });
        process.exit(LEASE_LOST_EXIT_CODE);
      },
    };
  }

  let stopping = false;
  let service: RunningService;
  try {
    service = await startService(appModule, { ...options, ...(lease ? { lease } : {}) });
  } catch (error) {
    logger.fatal('start-up failed', error);
    process.exit(1);
  }
  service.active.catch((error: unknown) => {
    // A standby asked to stop never became active: that is no failure.
    if (stopping && error instanceof LeaseNotHeldError) return;
    logger.fatal('start-up failed', error);
    process.exit(1);
  });

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A terminal's Ctrl-C reaches the whole process group, and a supervisor may follow with SIGTERM.
      logger.info('already shutting down', { signal });
      return;
    }
    stopping = true;
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    const started = Date.now();
    const deadline = setTimeout(() => {
      logger.error('graceful shutdown timed out, exiting', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    service.stop().then(
      () => {
        logger.info('stopped', { ms: Date.now() - started });
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return service;
}
