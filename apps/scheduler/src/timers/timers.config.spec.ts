import { timersConfigFromEnv } from './timers.config';

describe('timersConfigFromEnv', () => {
  it('defaults to the system clock, no test endpoint, a 500 ms tick of at most 500 timers', () => {
    expect(timersConfigFromEnv({})).toEqual({ mode: 'system', testClockEnabled: false, tickIntervalMs: 500, tickBatchSize: 500 });
  });

  it('rejects a tick slower than one second and a batch that is not a positive integer', () => {
    expect(() => timersConfigFromEnv({ SCHEDULER_TICK_INTERVAL_MS: '1500' })).toThrow('SCHEDULER_TICK_INTERVAL_MS=1500');
    expect(() => timersConfigFromEnv({ SCHEDULER_TICK_BATCH_SIZE: '0' })).toThrow('SCHEDULER_TICK_BATCH_SIZE=0');
    expect(() => timersConfigFromEnv({ SCHEDULER_TICK_BATCH_SIZE: '2.5' })).toThrow('SCHEDULER_TICK_BATCH_SIZE=2.5');
  });
});
