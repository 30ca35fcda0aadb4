import { clockConfigFromEnv, createClock } from './clock.config';
import { isAdjustable } from '@grantline/decider';
import { FixedClock, OffsetClock } from './offset.clock';
import { SystemClock } from './system.clock';

describe('clocks', () => {
  it('offset clock follows the wall clock plus everything advanced', () => {
    let wall = 1_000;
    const clock = new OffsetClock(() => wall);
    clock.advance(30 * 86_400_000);
    wall += 5;

    expect(clock.now().getTime()).toBe(1_005 + 30 * 86_400_000);
  });

  it('never moves backwards', () => {
    expect(() => new OffsetClock().advance(-1)).toThrow(RangeError);
    expect(() => new FixedClock('2025-01-02T00:00:00Z').set('2025-01-01T00:00:00Z')).toThrow(RangeError);
  });

  it('reads CLOCK and SCHEDULER_TEST_MODE (or its former name ENABLE_TEST_CLOCK), defaulting to the system clock without the endpoint', () => {
    expect(clockConfigFromEnv({})).toEqual({ mode: 'system', testClockEnabled: false });
    expect(clockConfigFromEnv({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true' })).toEqual({ mode: 'offset', testClockEnabled: true });
    expect(clockConfigFromEnv({ CLOCK: 'offset', ENABLE_TEST_CLOCK: 'true' })).toEqual({ mode: 'offset', testClockEnabled: true });
    expect(clockConfigFromEnv({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true', ENABLE_TEST_CLOCK: 'true' })).toEqual({ mode: 'offset', testClockEnabled: true });
    expect(clockConfigFromEnv({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'false' })).toEqual({ mode: 'offset', testClockEnabled: false });
    expect(createClock({ mode: 'system', testClockEnabled: false })).toBeInstanceOf(SystemClock);
    expect(isAdjustable(createClock({ mode: 'offset', testClockEnabled: true }))).toBe(true);
  });

  it('rejects a test clock endpoint over the system clock and unknown values', () => {
    expect(() => clockConfigFromEnv({ ENABLE_TEST_CLOCK: 'true' })).toThrow('needs CLOCK=offset');
    expect(() => clockConfigFromEnv({ SCHEDULER_TEST_MODE: 'true' })).toThrow('SCHEDULER_TEST_MODE=true needs CLOCK=offset');
    expect(() => clockConfigFromEnv({ CLOCK: 'fake' })).toThrow('CLOCK=fake');
    expect(() => clockConfigFromEnv({ ENABLE_TEST_CLOCK: 'yes' })).toThrow('ENABLE_TEST_CLOCK=yes');
    expect(() => clockConfigFromEnv({ SCHEDULER_TEST_MODE: '1' })).toThrow('SCHEDULER_TEST_MODE=1 must be true or false');
    expect(() => clockConfigFromEnv({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'false', ENABLE_TEST_CLOCK: 'true' })).toThrow('disagree');
  });

  it('refuses the test mode in production, whatever else is set', () => {
    for (const variable of ['SCHEDULER_TEST_MODE', 'ENABLE_TEST_CLOCK']) {
      expect(() => clockConfigFromEnv({ NODE_ENV: 'production', CLOCK: 'offset', [variable]: 'true' })).toThrow(
        'SCHEDULER_TEST_MODE=true is refused with NODE_ENV=production',
      );
    }
    expect(clockConfigFromEnv({ NODE_ENV: 'production', CLOCK: 'offset' })).toEqual({ mode: 'offset', testClockEnabled: false });
  });
});
