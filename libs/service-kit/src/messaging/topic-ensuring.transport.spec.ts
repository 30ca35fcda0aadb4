import { registry, RequestSubmittedV2, TOPICS } from '@grantline/contracts';
import type { ConsumerOptions, MessageBus, RunningConsumer, TopicSpec } from '@grantline/messaging';
import { TopicEnsuringKafkaEventTransport } from './topic-ensuring.transport';

function fakeBus(): { bus: MessageBus; calls: string[] } {
  const calls: string[] = [];
  const consumer: RunningConsumer = {
    groupId: 'g',
    stop: async () => undefined,
    whenCaughtUp: async () => undefined,
    health: () => ({ groupId: 'g', ok: true, problems: [] }),
  };
  const bus = {
    ensureTopics: async (topics: readonly TopicSpec[]) => {
      calls.push(`ensure ${topics.map((t) => t.topic).join(',')}`);
    },
    consume: async (options: ConsumerOptions) => {
      calls.push(`consume ${options.topics.join(',')}`);
      return consumer;
    },
  } as unknown as MessageBus;
  return { bus, calls };
}

function listen(transport: TopicEnsuringKafkaEventTransport): Promise<void> {
  return new Promise((resolve, reject) => transport.listen((error) => (error ? reject(error as Error) : resolve())));
}

describe('TopicEnsuringKafkaEventTransport', () => {
  it('creates the consumed topics before subscribing', async () => {
    const { bus, calls } = fakeBus();
    const transport = new TopicEnsuringKafkaEventTransport({ bus, registry, groupId: 'g' });
    transport.addHandler(RequestSubmittedV2.type, async () => undefined, true);
    await listen(transport);
    expect(calls).toEqual([`ensure ${TOPICS.requests}`, `consume ${TOPICS.requests}`]);
  });

  it('reports a bad pattern through the listen callback instead of throwing', async () => {
    const { bus, calls } = fakeBus();
    const transport = new TopicEnsuringKafkaEventTransport({ bus, registry, groupId: 'g' });
    transport.addHandler('iga.no-such-event.v1', async () => undefined, true);
    await expect(listen(transport)).rejects.toThrow();
    expect(calls).toEqual([]);
  });

  it('does nothing without handlers', async () => {
    const { bus, calls } = fakeBus();
    await listen(new TopicEnsuringKafkaEventTransport({ bus, registry, groupId: 'g' }));
    expect(calls).toEqual([]);
  });
});
