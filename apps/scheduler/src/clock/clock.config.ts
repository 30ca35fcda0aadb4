import type { Clock } from '@grantline/decider';
import { OffsetClock } from './offset.clock';
import { SystemClock } from './system.clock';

export type ClockMode = 'system' | 'offset';

export interface ClockConfig {
  readonly mode: ClockMode;
  /**
   * The test mode (`SCHEDULER_TEST_MODE=true`): only then do the test-clock endpoints exist (and `mode` must be
   * `offset`). Never in production: a start with it and NODE_ENV=production is refused.
   */
  readonly testClockEnabled: boolean;
}

/** The explicit switch, and its former name (still read, so existing test platforms keep working). */
export const TEST_MODE_VARIABLE = 'SCHEDULER_TEST_MODE';
export const LEGACY_TEST_MODE_VARIABLE = 'ENABLE_TEST_CLOCK';

function flagFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw new Error(`${name}=${raw} must be true or false`);
  return raw === 'true';
}

/**
 * Reads `CLOCK` (system | offset, default system) and `SCHEDULER_TEST_MODE` (true | false, default false;
 * `ENABLE_TEST_CLOCK` is its former name). The test mode lets whoever holds the operator role move the scheduler's
 * time, firing expiries and deadlines early: it is refused outright with NODE_ENV=production.
 */
export function clockConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClockConfig {
  const rawMode = env['CLOCK'] ?? 'system';
  if (rawMode !== 'system' && rawMode !== 'offset') throw new Error(`CLOCK=${rawMode} is not supported: use system or offset`);
  const testMode = flagFromEnv(env, TEST_MODE_VARIABLE);
  const legacy = flagFromEnv(env, LEGACY_TEST_MODE_VARIABLE);
  if (testMode !== undefined && legacy !== undefined && testMode !== legacy) {
    throw new Error(
      `${TEST_MODE_VARIABLE}=${String(testMode)} and ${LEGACY_TEST_MODE_VARIABLE}=${String(legacy)} (its former name) disagree: set ${TEST_MODE_VARIABLE} only`,
    );
  }
  const testClockEnabled = testMode ?? legacy ?? false;
  if (testClockEnabled && env['NODE_ENV'] === 'production') {
    throw new Error(
      `${TEST_MODE_VARIABLE}=true is refused with NODE_ENV=production: the test clock moves the scheduler's time and fires expiries and deadlines early; it exists only on test platforms`,
    );
  }
  // Refuse rather than guess: an advance endpoint over a clock that cannot move would accept calls and do nothing.
  if (testClockEnabled && rawMode !== 'offset') throw new Error(`${TEST_MODE_VARIABLE}=true needs CLOCK=offset`);
  return { mode: rawMode, testClockEnabled };
}

export function createClock(config: ClockConfig): Clock {
  return config.mode === 'offset' ? new OffsetClock() : new SystemClock();
}
