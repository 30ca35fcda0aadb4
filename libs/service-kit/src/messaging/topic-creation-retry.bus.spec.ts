import type { MessageBus, TopicSpec } from '@grantline/messaging';
import { silentLogger } from '@grantline/messaging';
import { TopicCreationRetryBus } from './topic-creation-retry.bus';

function busFailing(times: number): { bus: MessageBus; calls: () => number } {
  let calls = 0;
  const bus = {
    ensureTopics: async (_topics: readonly TopicSpec[]) => {
      calls += 1;
      if (calls <= times) throw new Error('This server does not host this topic-partition');
    },
  } as unknown as MessageBus;
  return { bus, calls: () => calls };
}

describe('TopicCreationRetryBus', () => {
  it('retries a failed topic creation until it succeeds', async () => {
    const { bus, calls } = busFailing(2);
    await new TopicCreationRetryBus(bus, silentLogger).ensureTopics([{ topic: 't' }]);
    expect(calls()).toBe(3);
  });

  it('gives up with the last error after its attempts', async () => {
    const { bus, calls } = busFailing(100);
    await expect(new TopicCreationRetryBus(bus, silentLogger).ensureTopics([{ topic: 't' }])).rejects.toThrow(/does not host/);
    expect(calls()).toBe(6);
  });
});
