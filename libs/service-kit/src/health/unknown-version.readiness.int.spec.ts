// Fail closed on the unknown (ADR 0009, decision 3 and 4), seen from the outside of a real service: a kit service
// meets a version of an event its release does not know (a newer release wrote it) on a topic Grantline services
// write. Its partition halts at that offset, /health/ready answers 503 naming topic, partition, offset and type, an
// error record says the same (the alert), and the same service restarted with code that knows the version continues
// from exactly that offset — nothing skipped, nothing dead-lettered. The mechanism itself is proven on the bus in
// libs/messaging (fail-closed.int.spec.ts); this spec proves what an operator sees. Real Kafka in a namespace of the
// spec's own, the MongoDB-wire store of jest's global setup.
import { Writable } from 'node:stream';
import { Controller, Injectable, Module } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { EventRegistry, RequestWithdrawn, TOPICS, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { KafkaEventContext } from '@grantline/messaging-nest';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { startService } from '../bootstrap/bootstrap-service';
import type { RunningService } from '../bootstrap/bootstrap-service';
import { ServiceKitModule } from '../service-kit.module';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const namespace = uniqueName('kit-unknown-version').replace(/_/g, '-');
const groupId = uniqueName('kit_unknown_version');
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };

/** Version 2 of `iga.request.withdrawn`, as a newer release defines it: v1 is upcast to it. */
const WithdrawnV2Schema = z.object({ requestId: z.string().min(1), withdrawnBy: z.string().min(1), reasonCode: z.string().min(1) });
const RequestWithdrawnV2 = defineEvent(RequestWithdrawn.name, 2, TOPICS.requests, WithdrawnV2Schema);
const upcastV1 = (data: unknown): unknown => ({ ...(data as object), reasonCode: 'unspecified' });

/** The newer release's registry: writes v2, reads both. */
const newer = new EventRegistry().register(RequestWithdrawn).register(RequestWithdrawnV2, upcastV1);
const meta = (id: string, requestId: string) => ({
  id,
  source: 'grantline/kit-spec',
  time: new Date().toISOString(),
  subject: requestId,
  correlationid: requestId,
  actor: { kind: 'service' as const, id: 'kit-spec' },
});
const v1 = (id: string): Envelope => newer.encode(RequestWithdrawn, { requestId: `req-${id}`, withdrawnBy: 'alice' }, meta(id, `req-${id}`));
const v2 = (id: string): Envelope =>
  newer.encode(RequestWithdrawnV2, { requestId: `req-${id}`, withdrawnBy: 'alice', reasonCode: 'duplicate' }, meta(id, `req-${id}`));

@Injectable()
class Handled {
  readonly entries: string[] = [];
}

/** The running release: knows `iga.request.withdrawn` v1 only. */
@Controller()
class CurrentReleaseHandler {
  constructor(private readonly handled: Handled) {}

  @EventPattern(RequestWithdrawn.type)
  async onWithdrawn(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    this.handled.entries.push(`${context.message.offset}:${event.type}:${event.id}`);
  }
}

/** The newer release: v2 is its latest (v1 arrives upcast). */
@Controller()
class NewerReleaseHandler {
  constructor(private readonly handled: Handled) {}

  @EventPattern(RequestWithdrawnV2.type)
  async onWithdrawn(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    this.handled.entries.push(`${context.message.offset}:${event.type}:${event.id}`);
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
  const records = (): Record<string, unknown>[] =>
    lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { destination, records };
}

async function boot(handler: Type<unknown>, logs: Writable): Promise<RunningService> {
  const env = {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    MONGO_URL: mongoUrl,
    KAFKA_TOPIC_NAMESPACE: namespace,
    PORT: '0',
    MONGO_DB: uniqueName('kit_unknown_version'),
    LOG_LEVEL: 'warn',
  };
  @Module({
    imports: [ServiceKitModule.forRoot({ serviceName: 'kit-unknown-version', env, topics: [TOPICS.requests], logDestination: logs })],
    controllers: [handler],
    providers: [Handled],
  })
  class ReleaseModule {}
  return startService(ReleaseModule, { serviceName: 'kit-unknown-version', groupId, fromBeginning: true });
}

interface Readiness {
  readonly status: number;
  readonly body: { error?: Record<string, { status: string; detail?: string; consumers?: Record<string, unknown>[] }> };
}

async function readiness(service: RunningService): Promise<Readiness> {
  const response = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

describe('a kit service meeting an event version its release does not know (real Kafka)', () => {
  let bus: KafkaMessageBus;
  const running: RunningService[] = [];

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('kit-unknown-version-spec'), brokers: kafkaBrokers, registry: newer, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([{ topic: TOPICS.requests, partitions: 1 }]);
  });

  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop()));
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
  }, 60_000);

  it('halts at that offset, is not ready and says so in an error record; the newer release continues from exactly there', async () => {
    // Given a v1, a v2 a newer release wrote, and a v1 after it, on one partition (offsets 0, 1, 2)
    await bus.publisher.publish(TOPICS.requests, [v1('before'), v2('future'), v1('after')]);

    // When the current release consumes them
    const logs = captureLogs();
    const current = await boot(CurrentReleaseHandler, logs.destination);
    running.push(current);
    const handled = current.app.get(Handled);

    // Then readiness is 503 naming the halted partition, offset and type
    const notReady = await eventually(async () => {
      const answer = await readiness(current);
      expect(answer.status).toBe(503);
      expect(answer.body.error?.['kafka']?.consumers).toEqual([
        expect.objectContaining({ groupId, state: 'halted', topic: TOPICS.requests, partition: 0, offset: '1', eventType: RequestWithdrawnV2.type }),
      ]);
      return answer;
    }, WAIT);
    expect(notReady.body.error?.['kafka']?.detail).toMatch(/halted at offset 1 \(iga\.request\.withdrawn\.v2\)/);
    // ...an error record names the same (what alerting picks up)
    expect(logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: expect.stringMatching(/partition halted/),
        topic: TOPICS.requests,
        partition: 0,
        offset: '1',
        eventType: RequestWithdrawnV2.type,
      }),
    );
    // ...and nothing at or past it was handled, or dead-lettered
    expect(handled.entries).toEqual([`0:${RequestWithdrawn.type}:before`]);
    const deadLetters: Envelope[] = [];
    await bus.replay({ topics: [TOPICS.deadLetter], handler: async (event) => void deadLetters.push(event) });
    expect(deadLetters).toEqual([]);
    await current.stop();
    running.splice(running.indexOf(current), 1);

    // When the service is restarted with the newer release (its catalogue knows v2; same consumer group)
    catalogue.register(RequestWithdrawnV2, upcastV1);
    const upgraded = await boot(NewerReleaseHandler, captureLogs().destination);
    running.push(upgraded);

    // Then it continues from exactly the halted offset, and is ready
    await eventually(
      () => expect(upgraded.app.get(Handled).entries).toEqual([`1:${RequestWithdrawnV2.type}:future`, `2:${RequestWithdrawnV2.type}:after`]),
      WAIT,
    );
    await eventually(async () => expect((await readiness(upgraded)).status).toBe(200), WAIT);
  }, 120_000);
});
