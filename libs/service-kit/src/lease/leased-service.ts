import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { KafkaLeaseElector, LeaseNotHeldError } from '@grantline/messaging';
import type { ClosableState, Lease, LeaseElector, MessageBus, StateReadinessRegistry } from '@grantline/messaging';
import type { ServiceConfig } from '../config/service-config.schema';
import type { JsonLogger } from '../logging/json-logger';
import { loadLeaseConfig } from './lease.config';
import { leaseGuardedBus } from './lease-guarded-bus';
import { StandbyGate } from './standby-gate';
import { ServiceMetrics } from '../metrics/service-metrics';
import { Gauge } from 'prom-client';

/** How a service with one active instance campaigns; everything defaults from the environment (see the README). */
export interface ServiceLeaseOptions {
  /** Defaults to the Kafka lease on the service's brokers and namespace. */
  readonly elector?: LeaseElector;
  /** Defaults to SERVICE_INSTANCE_ID, else host and pid. */
  readonly instanceId?: string;
  /** Defaults to SERVICE_LEASE_SESSION_TIMEOUT_MS (10 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Called the moment a held lease is lost, after the consumers were told to stop and readiness went down.
   * `bootstrapService` exits the process here; without it the instance stays up, not ready and not consuming.
   */
  readonly onLost?: (reason: string) => void;
}

/** What stops the consumers the activation started. */
export interface StartedConsumers {
  close(): Promise<void>;
}

export interface LeasedStartOptions {
  readonly app: INestApplication;
  readonly config: ServiceConfig;
  readonly logger: JsonLogger;
  readonly states: StateReadinessRegistry;
  readonly bus: MessageBus;
  readonly settings: ServiceLeaseOptions;
  readonly groupId: string;
  /** Wires the consumers onto `bus`, starts them and initialises the app (state loading starts there). */
  readonly activate: (bus: MessageBus) => Promise<StartedConsumers>;
}

export interface LeasedService {
  readonly url: string;
  readonly lease: Lease;
  /** Resolves once this instance holds the lease, its app is initialised and its consumers run. */
  readonly active: Promise<void>;
  /** Stops consuming, closes the app, and only then releases the lease (so the next holder never overlaps). */
  stop(): Promise<void>;
}

/** The lease as one of the states readiness reports once the instance is active ("service lease": up). */
function leaseReadiness(lease: Lease): ClosableState {
  return {
    name: 'service lease',
    isReady: () => lease.isHeld(),
    get lastError(): string | undefined {
      return lease.isHeld() ? undefined : (lease.status().reason ?? `lease ${lease.status().state}`);
    },
    // Released by the stop itself, after the consumers stopped.
    close: async () => undefined,
  };
}

async function listen(app: INestApplication, config: ServiceConfig): Promise<string> {
  const server = app.getHttpServer() as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    app.getHttpAdapter().listen(config.port, config.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
}

/**
 * Starts a service that must run as one active instance (ADR 0012). It campaigns for the lease named after the
 * service and opens its HTTP port at once, behind the standby gate; nothing of the service itself runs — no
 * lifecycle hook, so no state loading, no consumer, no timer — until it holds the lease. Then the app is
 * initialised and its consumers start, on a bus that refuses work once the lease is not held. A lost lease stops the
 * consumers at once and turns readiness down (and `onLost` runs: the process exits in `bootstrapService`).
 */
export async function startLeased(options: LeasedStartOptions): Promise<LeasedService> {
  const { app, config, logger, states, settings } = options;
  const leaseLogger = logger.withContext('lease');
  const needsEnv = settings.instanceId === undefined || (settings.elector === undefined && settings.sessionTimeoutMs === undefined);
  const fromEnv = needsEnv ? loadLeaseConfig() : undefined;
  const instanceId = settings.instanceId ?? fromEnv?.instanceId ?? 'unnamed';
  const sessionTimeoutMs = settings.sessionTimeoutMs ?? fromEnv?.sessionTimeoutMs;
  const elector =
    settings.elector ??
    new KafkaLeaseElector({
      clientId: `${config.serviceName}-lease`,
      brokers: config.kafkaBrokers,
      logger: logger.withContext('messaging'),
      ...(config.kafkaNamespace === undefined ? {} : { namespace: config.kafkaNamespace }),
      ...(config.kafkaSasl === undefined ? {} : { sasl: config.kafkaSasl }),
      ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
    });
  let lease: Lease;
  try {
    lease = await elector.campaign({ name: config.serviceName, instanceId });
  } catch (error) {
    if (!settings.elector) await elector.close().catch(() => undefined);
    throw error;
  }
  const metrics = serviceMetricsOf(app);
  const gate = new StandbyGate(lease, metrics);
  if (metrics) activeInstanceGauge(metrics, () => gate.state === 'active');
  app.use(gate.middleware);
  let consumers: StartedConsumers | undefined;
  let stopRequested = false;
  lease.onLost((reason) => {
    gate.lost(reason);
    void consumers?.close().catch(() => undefined);
    leaseLogger.error('lease lost: consumers stop now; another instance may take over', { reason, instanceId });
    settings.onLost?.(reason);
  });

  let url: string;
  try {
    url = await listen(app, config);
  } catch (error) {
    await lease.release();
    if (!settings.elector) await elector.close();
    throw error;
  }
  // The url is logged at once: a standby serves its health endpoints too.
  const waiting = lease.isHeld() ? 'listening; this instance holds the lease' : 'standby: another instance holds the lease; waiting for it';
  leaseLogger.info(waiting, { url, instanceId, lease: lease.status(), sessionTimeoutMs });

  const active = (async () => {
    await lease.whenAcquired();
    if (stopRequested) throw new LeaseNotHeldError('the service stops');
    gate.starting();
    const acquiredAt = Date.now();
    leaseLogger.info('lease acquired: this instance is the active one; loading state and starting consumers', { instanceId, lease: lease.status() });
    const started = await options.activate(leaseGuardedBus(options.bus, lease));
    consumers = started;
    if (!lease.isHeld()) {
      await started.close();
      throw new LeaseNotHeldError(`the ${lease.name} lease was lost while the service started`);
    }
    app.get(HttpAdapterHost).listening = true;
    states.register(leaseReadiness(lease));
    gate.open();
    logger.log({ msg: 'ready', url, groupId: options.groupId, instanceId, startMs: Date.now() - acquiredAt }, 'bootstrap');
  })();
  active.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopRequested = true;
      gate.stopping();
      // A standby (or one still joining) leaves at once; a holder keeps the lease until it stopped consuming.
      if (!lease.isHeld()) await lease.release();
      const statesClosed = states.closeAll();
      await active.catch(() => undefined);
      await consumers?.close();
      await statesClosed;
      await app.close();
      await lease.release();
      if (!settings.elector) await elector.close();
    })());
  return { url, lease, active, stop };
}

/** The service's metrics, when the app has the service kit's (a bare app in a spec may not). */
function serviceMetricsOf(app: INestApplication): ServiceMetrics | undefined {
  try {
    return app.get(ServiceMetrics, { strict: false });
  } catch {
    return undefined;
  }
}

/** `grantline_instance_active`: 1 on the instance that holds the lease and runs, 0 on a standby (both are scraped). */
function activeInstanceGauge(metrics: ServiceMetrics, isActive: () => boolean): void {
  metrics.registry.removeSingleMetric('grantline_instance_active');
  new Gauge({
    name: 'grantline_instance_active',
    help: 'Whether this instance is the active one of its service (holds the lease and runs its consumers): 1, or a standby: 0',
    registers: [metrics.registry],
    collect() {
      this.set(isActive() ? 1 : 0);
    },
  });
}
