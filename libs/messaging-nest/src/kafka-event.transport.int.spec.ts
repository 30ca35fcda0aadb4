import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { z } from 'zod';
import { EventRegistry, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { Envelope, TopicName } from '@grantline/contracts';
import { KafkaMessageBus, deterministicEventId, silentLogger } from '@grantline/messaging';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { KafkaEventContext, KafkaEventTransport } from './kafka-event.transport';

const { kafkaBrokers } = infraEndpoints();
const inTopic = uniqueName('spec.nest.in') as TopicName;
const outTopic = `${inTopic}.out` as TopicName;
const Greeting = z.strictObject({ name: z.string().min(1) });
const greeted = defineEvent('iga.test.greeted', 1, inTopic, Greeting);
const answered = defineEvent('iga.test.answered', 1, outTopic, z.strictObject({ text: z.string(), partition: z.number() }));
const registry = new EventRegistry().register(greeted).register(answered).register(catalogue.latestOf('iga.messaging.dead-lettered'));

@Controller()
class GreeterHandler {
  @EventPattern('iga.test.greeted.v1')
  answer(@Payload() event: Envelope<{ name: string }>, @Ctx() context: KafkaEventContext): Envelope[] {
    return [
      registry.encode(
        answered,
        { text: `hello ${event.data.name}`, partition: context.message.partition },
        {
          id: deterministicEventId('answer', event.id),
          source: 'grantline/spec',
          time: event.time,
          subject: event.subject,
          correlationid: event.correlationid,
          causationid: event.id,
          actor: { kind: 'service', id: 'spec' },
        },
      ),
    ];
  }
}

@Module({ controllers: [GreeterHandler] })
class GreeterModule {}

describe('KafkaEventTransport (NestJS custom transport) against a real broker', () => {
  let app: INestApplication;
  let bus: KafkaMessageBus;
  let transport: KafkaEventTransport;

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('nest'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.ensureTopics([{ topic: inTopic, partitions: 2 }, { topic: outTopic, partitions: 2 }, { topic: 'iga.dead-letter.v1' }]);
    app = await NestFactory.create(GreeterModule, { logger: false });
    transport = new KafkaEventTransport({ bus, registry, groupId: uniqueName('nest-group'), transactional: true });
    app.connectMicroservice({ strategy: transport });
    await app.startAllMicroservices();
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await bus.disconnect();
  });

  it('derives the topics from @EventPattern handlers', () => {
    expect(transport.subscribedTopics()).toEqual([inTopic]);
  });

  it('dispatches to the @EventPattern handler and publishes what it returns to the single-writer topic', async () => {
    const greeting = registry.encode(
      greeted,
      { name: 'ada' },
      {
        id: 'greeting-1',
        source: 'grantline/spec',
        time: new Date().toISOString(),
        subject: 'person-1',
        correlationid: 'person-1',
        actor: { kind: 'user', id: 'ada' },
      },
    );
    await bus.publish(inTopic, [greeting]);
    await transport.whenCaughtUp(30_000);
    // Transaction markers land shortly after the commit: wait until the output is visible.
    await eventually(
      async () => {
        const out: Envelope[] = [];
        await bus.replay({ topics: [outTopic], handler: async (e) => void out.push(e) });
        expect(out).toHaveLength(1);
        expect(out[0]!.data).toMatchObject({ text: 'hello ada' });
        expect(out[0]!.causationid).toBe('greeting-1');
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
  });

  it('refuses a handler that names an old event version', () => {
    const v2 = defineEvent('iga.test.greeted', 2, inTopic, Greeting);
    const newer = new EventRegistry().register(greeted).register(v2, (data) => data);
    const strict = new KafkaEventTransport({ bus, registry: newer, groupId: 'unused' });
    strict.addHandler('iga.test.greeted.v1', async () => undefined, true);
    expect(() => strict.subscribedTopics()).toThrow(/old version.*iga\.test\.greeted\.v2/);
  });
});
