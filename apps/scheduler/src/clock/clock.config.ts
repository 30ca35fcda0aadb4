import type { Clock } from './clock.port';
import { OffsetClock } from './offset.clock';
import { SystemClock } from './system.clock';

export type ClockMode = 'system' | 'offset';

export interface ClockConfig {
  readonly mode: ClockMode;
  /** `POST /v1/test-clock/advance` is mounted only when true (and then `mode` must be `offset`). */
  readonly testClockEnabled: boolean;
}

/** Reads `CLOCK` (system | offset, default system) and `ENABLE_TEST_CLOCK` (true | false, default false). */
export function clockConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClockConfig {
  const rawMode = env['CLOCK'] ?? 'system';
  if (rawMode !== 'system' && rawMode !== 'offset') throw new Error(`CLOCK=${rawMode} is not supported: use system or offset`);
  const rawEnabled = env['ENABLE_TEST_CLOCK'] ?? 'false';
  if (rawEnabled !== 'true' && rawEnabled !== 'false') throw new Error(`ENABLE_TEST_CLOCK=${rawEnabled} must be true or false`);
  const testClockEnabled = rawEnabled === 'true';
  // Refuse rather than guess: an advance endpoint over a clock that cannot move would accept calls and do nothing.
  if (testClockEnabled && rawMode !== 'offset') throw new Error('ENABLE_TEST_CLOCK=true needs CLOCK=offset');
  return { mode: rawMode, testClockEnabled };
}

export function createClock(config: ClockConfig): Clock {
  return config.mode === 'offset' ? new OffsetClock() : new SystemClock();
}
