import type { Envelope } from '@grantline/contracts';
import { silentLogger } from './logger';
import type { ReplayOptions } from './ports';
import { ReplayedState } from './replayed-state';

const event = (id: string): Envelope => ({ id }) as unknown as Envelope;

/** A log of two topics; `missing` cannot be replayed (its writer never started). */
function fakeBus(log: Record<string, readonly Envelope[]>) {
  const replays: string[][] = [];
  return {
    replays,
    replay: async (options: ReplayOptions): Promise<number> => {
      replays.push([...options.topics]);
      const topic = options.topics[0] ?? '';
      const events = log[topic];
      if (events === undefined) throw new Error(`unknown topic ${topic}`);
      for (const [offset, e] of events.entries()) await options.handler(e, { topic, partition: 0, offset: String(offset), key: null });
      return events.length;
    },
  };
}

describe('ReplayedState', () => {
  it('given topics on the log, when loaded twice, then it replays them once, topic by topic, skipping one that cannot be read', async () => {
    const applied: string[] = [];
    const bus = fakeBus({ a: [event('a0'), event('a1')], b: [event('b0')] });
    const state = new ReplayedState({ bus, topics: () => ['a', 'missing', 'b'], apply: (e) => void applied.push(e.id), logger: silentLogger, name: 'spec state' });
    await Promise.all([state.whenLoaded(), state.whenLoaded()]);
    expect(bus.replays).toEqual([['a'], ['missing'], ['b']]);
    expect(applied).toEqual(['a0', 'a1', 'b0']);
  });

  it('given the replay folded up to an offset, when the live consumer delivers it again, then only later offsets are folded', async () => {
    const applied: string[] = [];
    const state = new ReplayedState({ bus: fakeBus({ a: [event('a0'), event('a1')] }), topics: () => ['a'], apply: (e) => void applied.push(e.id), logger: silentLogger, name: 'spec state' });
    await state.whenLoaded();
    state.applyLive(event('a1'), { topic: 'a', partition: 0, offset: '1' });
    state.applyLive(event('a2'), { topic: 'a', partition: 0, offset: '2' });
    state.applyLive(event('c0'), { topic: 'c', partition: 0, offset: '0' });
    expect(applied).toEqual(['a0', 'a1', 'a2', 'c0']);
  });
});
