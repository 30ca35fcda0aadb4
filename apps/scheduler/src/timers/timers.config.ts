import { clockConfigFromEnv } from '../clock/clock.config';
import type { ClockConfig } from '../clock/clock.config';
import { DEFAULT_TICK_BATCH_SIZE, DEFAULT_TICK_INTERVAL_MS } from './timer-ticker';

export interface TimersConfig extends ClockConfig {
  readonly tickIntervalMs: number;
  readonly tickBatchSize: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name}=${raw} must be an integer in [${min}, ${max}]`);
  return value;
}

/** `CLOCK`, `SCHEDULER_TEST_MODE`, `SCHEDULER_TICK_INTERVAL_MS` (1..1000) and `SCHEDULER_TICK_BATCH_SIZE` (1..10000). */
export function timersConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TimersConfig {
  return {
    ...clockConfigFromEnv(env),
    tickIntervalMs: intFromEnv(env, 'SCHEDULER_TICK_INTERVAL_MS', DEFAULT_TICK_INTERVAL_MS, 1, 1000),
    tickBatchSize: intFromEnv(env, 'SCHEDULER_TICK_BATCH_SIZE', DEFAULT_TICK_BATCH_SIZE, 1, 10_000),
  };
}

export const TIMERS_CONFIG = Symbol('TIMERS_CONFIG');
export const SCHEDULER_RUNTIME = Symbol('SCHEDULER_RUNTIME');
