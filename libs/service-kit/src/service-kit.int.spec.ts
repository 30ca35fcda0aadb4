import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Controller, Injectable, Module } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { fixtureMeta, registry, RequestSubmittedV2, requestSubmittedV2Fixture, TOPICS } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { EventPublisher } from '@grantline/messaging';
import { EVENT_PUBLISHER } from '@grantline/messaging-nest';
import { startService } from './bootstrap/bootstrap-service';
import type { RunningService } from './bootstrap/bootstrap-service';
import { ServiceKitModule } from './service-kit.module';

// Real Kafka and MongoDB-wire store, exported by jest's global setup (libs/testing).
function infraEnv(): { KAFKA_BROKERS: string; MONGO_URL: string } {
  const { KAFKA_BROKERS, MONGO_URL } = process.env;
  if (!KAFKA_BROKERS || !MONGO_URL) {
    throw new Error('KAFKA_BROKERS and MONGO_URL must be set: run integration specs through `npm test` (jest global setup)');
  }
  return { KAFKA_BROKERS, MONGO_URL };
}

const unique = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Collects the handler's events; `waitFor` resolves when one with the given id arrived. */
@Injectable()
class Received {
  readonly events: Envelope[] = [];
  readonly trace: string[] = [];
  /** Events with this id take `slowMs` to handle, like real work that is in flight when a stop arrives. */
  slow: { id: string; ms: number; entered: () => void } | undefined;
  private readonly waiters = new Map<string, () => void>();

  async add(event: Envelope): Promise<void> {
    if (this.slow?.id === event.id) {
      this.trace.push('handler started');
      this.slow.entered();
      await new Promise((resolve) => setTimeout(resolve, this.slow?.ms));
      this.trace.push('handler finished');
    }
    this.events.push(event);
    this.waiters.get(event.id)?.();
  }

  waitFor(id: string): Promise<void> {
    if (this.events.some((event) => event.id === id)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }
}

@Controller()
class SubmittedHandler {
  constructor(private readonly received: Received) {}

  @EventPattern(RequestSubmittedV2.type)
  async onSubmitted(@Payload() event: Envelope): Promise<void> {
    await this.received.add(event);
  }
}

function captureLogs(): { destination: Writable; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return {
    destination,
    records: () =>
      lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function boot(logs: Writable): Promise<{ service: RunningService; db: string }> {
  const db = unique('sk_int');
  const env = { ...infraEnv(), PORT: '0', MONGO_DB: db, LOG_LEVEL: 'debug' };
  @Module({
    imports: [ServiceKitModule.forRoot({ serviceName: 'service-kit-int', env, topics: [TOPICS.requests], logDestination: logs })],
    controllers: [SubmittedHandler],
    providers: [Received],
  })
  class TestAppModule {}
  const service = await startService(TestAppModule, { serviceName: 'service-kit-int', groupId: unique('sk_int_group') });
  return { service, db };
}

/**
 * Holds the app's bootstrap open until an event is handled, or for `holdMs`: a consumer that delivered while the app
 * was still bootstrapping (CQRS handlers not registered, state not loaded) is caught in the act.
 */
@Injectable()
class SlowBootstrap implements OnApplicationBootstrap {
  static holdMs = 3_000;
  bootstrapped = false;
  readonly handledDuringBootstrap: string[] = [];
  private wake: (() => void) | undefined;

  async onApplicationBootstrap(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, SlowBootstrap.holdMs);
    });
    clearTimeout(timer);
    this.bootstrapped = true;
  }

  handled(event: Envelope): void {
    if (this.bootstrapped) return;
    this.handledDuringBootstrap.push(event.id);
    this.wake?.();
  }
}

@Controller()
class BootstrapAwareHandler {
  constructor(
    private readonly received: Received,
    private readonly bootstrap: SlowBootstrap,
  ) {}

  @EventPattern(RequestSubmittedV2.type)
  async onSubmitted(@Payload() event: Envelope): Promise<void> {
    this.bootstrap.handled(event);
    await this.received.add(event);
  }
}

describe('ServiceKitModule against real Kafka and MongoDB', () => {
  let running: RunningService[] = [];

  afterEach(async () => {
    await Promise.all(running.map((service) => service.stop()));
    running = [];
  });

  it('boots, reports ready, consumes its events and shuts down cleanly', async () => {
    const logs = captureLogs();
    const { service, db } = await boot(logs.destination);
    running.push(service);

    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      details: { kafka: { status: 'up' }, mongo: { status: 'up' }, 'mongo-ping': { status: 'up', db } },
    });

    // the app's @EventPattern handler is wired to Kafka through the kit's bootstrap
    const id = unique('evt');
    const event = registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ id }));
    await service.app.get<EventPublisher>(EVENT_PUBLISHER).publish(TOPICS.requests, [event]);
    await withTimeout(service.app.get(Received).waitFor(id), 30_000, `delivery of ${id}`);

    expect(logs.records()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'info', msg: 'ready', service: 'service-kit-int', context: 'bootstrap' }),
        expect.objectContaining({ level: 'debug', context: 'http', method: 'GET', path: '/health/ready', status: 200, ms: expect.any(Number) }),
      ]),
    );

    const connection = service.app.get<Connection>(getConnectionToken());
    await withTimeout(service.stop(), 15_000, 'graceful stop');
    running = [];
    expect(connection.readyState).toBe(0);
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
  });

  it('hands no event to the app before every bootstrap hook has run', async () => {
    const publisher = (await boot(captureLogs().destination)).service;
    running.push(publisher);
    const id = unique('evt');
    await publisher.app
      .get<EventPublisher>(EVENT_PUBLISHER)
      .publish(TOPICS.requests, [registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ id }))]);
    const env = { ...infraEnv(), PORT: '0', MONGO_DB: unique('sk_int'), LOG_LEVEL: 'warn' };
    @Module({
      imports: [ServiceKitModule.forRoot({ serviceName: 'service-kit-int', env, topics: [TOPICS.requests], logDestination: captureLogs().destination })],
      controllers: [BootstrapAwareHandler],
      providers: [Received, SlowBootstrap],
    })
    class SlowAppModule {}

    const service = await startService(SlowAppModule, { serviceName: 'service-kit-int', groupId: unique('sk_int_group'), fromBeginning: true });
    running.push(service);
    await withTimeout(service.app.get(Received).waitFor(id), 30_000, `delivery of ${id}`);

    expect(service.app.get(SlowBootstrap).handledDuringBootstrap).toEqual([]);
  });

  it('serves Prometheus metrics: handler durations and events per group and topic, consumer lag, transport totals, process', async () => {
    const { service } = await boot(captureLogs().destination);
    running.push(service);
    const id = unique('evt');
    await service.app
      .get<EventPublisher>(EVENT_PUBLISHER)
      .publish(TOPICS.requests, [registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ id }))]);
    await withTimeout(service.app.get(Received).waitFor(id), 30_000, `delivery of ${id}`);

    const response = await fetch(`${service.url}/metrics`);
    const text = await response.text();
    const value = (prefix: string): number => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
      if (line === undefined) throw new Error(`no ${prefix} in:\n${text.slice(0, 2_000)}`);
      return Number(line.split(' ').at(-1));
    };

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(value('grantline_handler_duration_seconds_count{')).toBeGreaterThanOrEqual(1);
    expect(value('grantline_events_handled_total{')).toBeGreaterThanOrEqual(1);
    expect(value('grantline_messaging_published_events_total{service="service-kit-int"}')).toBeGreaterThanOrEqual(1);
    expect(value('grantline_consumer_lag{')).toBeGreaterThanOrEqual(0);
    expect(value('grantline_messaging_halted_partitions{service="service-kit-int"}')).toBe(0);
    expect(text).toMatch(/^grantline_handler_duration_seconds_count\{[^}]*topic="iga\.requests\.v1"[^}]*\} \d+$/m);
    expect(text).toContain('process_resident_memory_bytes{service="service-kit-int"}');
  });

  it('lets the handler in flight finish before stop() resolves', async () => {
    const { service } = await boot(captureLogs().destination);
    running.push(service);
    const received = service.app.get(Received);
    const id = unique('evt_slow');
    const entered = new Promise<void>((resolve) => {
      received.slow = { id, ms: 1_500, entered: resolve };
    });
    const event = registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ id }));
    await service.app.get<EventPublisher>(EVENT_PUBLISHER).publish(TOPICS.requests, [event]);
    await withTimeout(entered, 30_000, `delivery of ${id}`);

    received.trace.push('stop called');
    await withTimeout(service.stop(), 15_000, 'graceful stop');
    received.trace.push('stopped');
    running = [];
    expect(received.trace).toEqual(['handler started', 'stop called', 'handler finished', 'stopped']);
  });

  it('answers 503 on /health/ready when MongoDB is gone, and stays live', async () => {
    const { service } = await boot(captureLogs().destination);
    running.push(service);
    await service.app.get<Connection>(getConnectionToken()).close();

    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      details: { kafka: { status: 'up' }, mongo: { status: 'down' }, 'mongo-ping': { status: 'down' } },
    });
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  });
});
