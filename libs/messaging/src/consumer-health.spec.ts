import { ConsumerHealthTracker } from './consumer-health';

function tracker(stallAfterMs = 1_000) {
  let now = Date.parse('2025-01-01T00:00:00Z');
  const health = new ConsumerHealthTracker('group-1', stallAfterMs, () => now);
  return { health, advance: (ms: number) => void (now += ms) };
}

describe('ConsumerHealthTracker', () => {
  it('given nothing wrong, then it is ok', () => {
    const { health } = tracker();
    health.fetched('t', 0, '0', '3');
    health.advanced('t', 0, 3n);
    expect(health.health()).toEqual({ groupId: 'group-1', ok: true, problems: [], partitions: [{ topic: 't', partition: 0, lag: 0 }] });
  });

  it('given records waiting behind the committed position, then each partition reports its lag until it catches up', () => {
    const { health } = tracker();
    health.fetched('t', 0, '10', '25');
    health.fetched('t', 1, '0', '4');
    health.advanced('t', 1, 1n);

    expect(health.health().partitions).toEqual([
      { topic: 't', partition: 0, lag: 15 },
      { topic: 't', partition: 1, lag: 3 },
    ]);

    health.advanced('t', 0, 25n);
    expect(health.health().partitions?.[0]).toEqual({ topic: 't', partition: 0, lag: 0 });
  });

  it('given a halt, then it reports topic, partition, offset and type until the partition is released', () => {
    const { health } = tracker();
    health.halt('t', 1, '7', 'iga.spec.future.v2', 'event type unknown to this service: iga.spec.future.v2');
    expect(health.health()).toMatchObject({
      ok: false,
      problems: [{ state: 'halted', topic: 't', partition: 1, offset: '7', eventType: 'iga.spec.future.v2' }],
    });
    expect(health.isHalted('t', 1)).toBe(true);
    // Still assigned: still halted. Given away: the new owner reports it; this member resumes it.
    expect(health.assigned(new Map([['t', [0, 1]]]))).toEqual([]);
    expect(health.isHalted('t', 1)).toBe(true);
    expect(health.assigned(new Map([['t', [0]]]))).toEqual([{ topic: 't', partition: 1 }]);
    expect(health.health().ok).toBe(true);
  });

  it('given a handler failing for longer than stallAfterMs, then the partition is stalled; when it succeeds, then it is not', () => {
    const { health, advance } = tracker();
    health.fetched('t', 0, '5', '6');
    health.failing('t', 0, '5', 1, 'Error: mongo down');
    advance(600);
    health.failing('t', 0, '5', 2, 'Error: mongo down');
    expect(health.health().ok).toBe(true);
    advance(600);
    expect(health.health().problems).toEqual([
      expect.objectContaining({
        state: 'stalled',
        cause: 'failing',
        topic: 't',
        partition: 0,
        offset: '5',
        reason: expect.stringMatching(/1200 ms \(2 attempts\), last: Error: mongo down/),
      }),
    ]);
    health.recovered('t', 0);
    health.advanced('t', 0, 6n);
    expect(health.health().ok).toBe(true);
  });

  it('given messages waiting and no progress for longer than stallAfterMs, then the partition is stalled', () => {
    const { health, advance } = tracker();
    health.fetched('t', 2, '10', '20');
    advance(900);
    health.advanced('t', 2, 11n);
    advance(900);
    expect(health.health().ok).toBe(true);
    advance(200);
    expect(health.health().problems).toEqual([
      expect.objectContaining({ state: 'stalled', cause: 'no-progress', offset: '11', reason: expect.stringMatching(/9 waiting/) }),
    ]);
  });

  it('given a partition idle for long, when new messages arrive, then the time without progress starts then', () => {
    const { health, advance } = tracker();
    health.fetched('t', 0, '0', '1');
    health.advanced('t', 0, 1n);
    advance(3_600_000);
    health.fetched('t', 0, '1', '5');
    advance(500);
    expect(health.health().ok).toBe(true);
  });

  it('given the client crashed for good, then it is reported', () => {
    const { health } = tracker();
    health.crashed('KafkaJSNonRetriableError: boom');
    expect(health.health()).toMatchObject({ ok: false, problems: [{ state: 'crashed', reason: 'KafkaJSNonRetriableError: boom' }] });
    expect(health.isCrashed()).toBe(true);
  });
});
