import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { EventRegistry, defineEvent, registry } from '@grantline/contracts';
import type { Envelope, TopicName } from '@grantline/contracts';
import { InMemoryMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EventBatchPattern, KafkaEventBatchContext, KafkaEventContext, KafkaEventTransport } from './kafka-event.transport';

const unusedBus = {} as MessageBus;

describe('KafkaEventTransport topic derivation', () => {
  it('given a handler for a request event, when listening, then it consumes the requests topic', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g' });
    transport.addHandler('iga.request.submitted.v2', async () => undefined, true);
    expect(transport.subscribedTopics()).toEqual(['iga.requests.v1']);
  });

  it('given a handler for connector results, when connectors are named, then one results topic per connector', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g', connectorIds: ['postgres', 'ldap'] });
    transport.addHandler('iga.connector.provisioned.v1', async () => undefined, true);
    expect(transport.subscribedTopics()).toEqual(['iga.connectors.ldap.results.v1', 'iga.connectors.postgres.results.v1']);
  });

  it('given a handler for connector results, when no connector is named, then start-up fails saying so', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g' });
    transport.addHandler('iga.connector.provisioned.v1', async () => undefined, true);
    expect(() => transport.subscribedTopics()).toThrow(/connectorIds/);
  });
});

const Letter = z.strictObject({ n: z.number().int() });
const lettersTopic = 'spec.nest.letters' as TopicName;
const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((name) => defineEvent(`iga.test.${name}`, 1, lettersTopic, Letter));
const lettersRegistry = new EventRegistry().register(alpha!).register(beta!).register(gamma!).register(registry.latestOf('iga.messaging.dead-lettered'));
const letter = (def: typeof alpha, n: number): Envelope =>
  lettersRegistry.encode(
    def!,
    { n },
    {
      id: `${def!.name}-${n}`,
      source: 'grantline/spec',
      time: new Date(0).toISOString(),
      subject: 'k',
      correlationid: 'k',
      actor: { kind: 'system', id: 'spec' },
    },
  );
const nameOf = (event: Envelope): string => `${event.type.split('.')[2]}${(event.data as { n: number }).n}`;

const calls: string[] = [];

@Controller()
class LettersHandler {
  @EventBatchPattern(['iga.test.alpha.v1', 'iga.test.beta.v1'])
  async batch(@Payload() events: Envelope[], @Ctx() context: KafkaEventBatchContext): Promise<void> {
    calls.push(`batch ${events.map(nameOf).join(',')} @${context.batch.offsets.join(',')} keys ${context.batch.keys.join(',')}`);
  }

  @EventPattern('iga.test.gamma.v1')
  async one(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    calls.push(`one ${nameOf(event)} @${context.message.offset}`);
  }
}

@Module({ controllers: [LettersHandler] })
class LettersModule {}

describe('KafkaEventTransport with a batch handler', () => {
  it('given a batch handler and a per-event one, then consecutive events of the batch handler go together, in log order, and the batch is committed', async () => {
    const bus = new InMemoryMessageBus({ registry: lettersRegistry, logger: silentLogger });
    await bus.ensureTopics([{ topic: lettersTopic, partitions: 1 }]);
    bus.append(letter(alpha, 1), letter(beta, 1), letter(gamma, 1), letter(alpha, 2), letter(beta, 2), letter(alpha, 3));
    const transport = new KafkaEventTransport({ bus, registry: lettersRegistry, groupId: 'letters' });
    const app = await NestFactory.createMicroservice(LettersModule, { strategy: transport, logger: false });
    await app.listen();
    try {
      await transport.whenCaughtUp(10_000);
      expect(calls).toEqual(['batch alpha1,beta1 @0,1 keys k,k', 'one gamma1 @2', 'batch alpha2,beta2,alpha3 @3,4,5 keys k,k,k']);
      expect(bus.committedOffsets('letters', lettersTopic)).toEqual(new Map([[0, '6']]));
    } finally {
      await app.close();
    }
  });
});
