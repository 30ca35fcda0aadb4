import { randomBytes } from 'node:crypto';
import { Controller, Injectable, Module } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { fixtureMeta, registry, RequestSubmittedV2, requestSubmittedV2Fixture, TOPICS } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { InProcessLeaseElector, KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { EventPublisher, MessageBus } from '@grantline/messaging';
import { EVENT_PUBLISHER, MESSAGE_BUS } from '@grantline/messaging-nest';
import { eventually, infraEndpoints } from '@grantline/testing';
import { startService } from '../bootstrap/bootstrap-service';
import type { RunningService } from '../bootstrap/bootstrap-service';
import { ServiceKitModule } from '../service-kit.module';
import { STANDBY_REASON } from './standby-gate';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const hex = randomBytes(4).toString('hex');
const namespace = `sk-lease-${hex}`;
const SERVICE = 'lease-int';
const groupId = `lease_int_${hex}`;

/** Stands for what a stateful service starts in its lifecycle hooks (a replay, a ticker). */
@Injectable()
class Started implements OnApplicationBootstrap {
  hooks = 0;
  readonly events: Envelope[] = [];

  onApplicationBootstrap(): void {
    this.hooks += 1;
  }
}

@Controller()
class SubmittedHandler {
  constructor(private readonly started: Started) {}

  @EventPattern(RequestSubmittedV2.type)
  async onSubmitted(@Payload() event: Envelope): Promise<void> {
    this.started.events.push(event);
  }
}

@Module({
  imports: [
    ServiceKitModule.forRoot({
      serviceName: SERVICE,
      env: { KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, PORT: '0', KAFKA_TOPIC_NAMESPACE: namespace, LOG_LEVEL: 'warn' },
      topics: [TOPICS.requests],
    }),
  ],
  controllers: [SubmittedHandler],
  providers: [Started],
})
class LeasedAppModule {}

const submitted = (): Envelope => registry.encode(RequestSubmittedV2, requestSubmittedV2Fixture, fixtureMeta({ id: `evt-${randomBytes(6).toString('hex')}` }));

async function ready(service: RunningService): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('a leased service (startService with a lease) against real Kafka and MongoDB', () => {
  const elector = new InProcessLeaseElector();
  const services: RunningService[] = [];
  const lost: string[] = [];
  const start = async (instanceId: string): Promise<RunningService> => {
    const service = await startService(LeasedAppModule, {
      serviceName: SERVICE,
      groupId,
      lease: { elector, instanceId, onLost: (reason) => lost.push(`${instanceId}: ${reason}`) },
    });
    services.push(service);
    return service;
  };

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    const bus = new KafkaMessageBus({ clientId: `cleanup-${hex}`, brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.deleteNamespace().catch(() => undefined);
    await bus.disconnect();
  });

  it('a standby runs nothing of the service and says why; it takes over when the active one stops; a lost lease stops its consumers at once', async () => {
    const a = await start('a');
    await a.active;
    const b = await start('b');

    // The standby: live, not ready with the reason, every other route 503, no lifecycle hook ran, no consumer.
    expect(b.lease?.status().state).toBe('standby');
    expect((await fetch(`${b.url}/health/live`)).status).toBe(200);
    const standby = await ready(b);
    expect(standby.status).toBe(503);
    expect(standby.body).toMatchObject({ status: 'error', error: { lease: { status: 'down', detail: STANDBY_REASON, state: 'standby', instanceId: 'b' } } });
    const other = await fetch(`${b.url}/docs-json`);
    expect(other.status).toBe(503);
    expect(other.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(b.app.get(Started).hooks).toBe(0);
    // A standby is a scrape target too, and says it is a standby (both instances share one registry in this process,
    // so only the one started last is asked).
    const activeGauge = async (service: RunningService): Promise<string | undefined> =>
      (await (await fetch(`${service.url}/metrics`)).text()).split('\n').find((line) => line.startsWith('grantline_instance_active'));
    expect(await activeGauge(b)).toMatch(/ 0$/);

    // The active one: ready with the lease among its states, and it alone consumes (same group as the standby would).
    expect(await ready(a)).toMatchObject({ status: 200, body: { details: { 'service lease': { status: 'up' } } } });
    const first = submitted();
    await a.app.get<EventPublisher>(EVENT_PUBLISHER).publish(TOPICS.requests, [first]);
    await eventually(() => expect(a.app.get(Started).events.map((event) => event.id)).toContain(first.id), { timeoutMs: 30_000 });
    expect(a.app.get(Started).hooks).toBe(1);

    // The active one stops: it releases the lease last, and the standby becomes active and consumes what follows.
    await a.stop();
    await b.active;
    expect(b.app.get(Started).hooks).toBe(1);
    expect((await ready(b)).status).toBe(200);
    expect(await activeGauge(b)).toMatch(/ 1$/);
    const second = submitted();
    await b.app.get<EventPublisher>(EVENT_PUBLISHER).publish(TOPICS.requests, [second]);
    await eventually(() => expect(b.app.get(Started).events.map((event) => event.id)).toContain(second.id), { timeoutMs: 30_000 });

    // The lease is lost (what a partition does): readiness goes down at once, the consumers stop, onLost is told.
    elector.revoke(SERVICE, 'network partition');
    expect(lost).toEqual(['b: network partition']);
    const after = await ready(b);
    expect(after.status).toBe(503);
    expect(after.body).toMatchObject({
      error: { lease: { state: 'lost', detail: expect.stringContaining('lease lost, consumers stopped: network partition') } },
    });
    const bus = b.app.get<MessageBus>(MESSAGE_BUS);
    await eventually(async () => expect((await bus.health()).consumers ?? []).toEqual([]), { timeoutMs: 15_000 });
  }, 120_000);
});
