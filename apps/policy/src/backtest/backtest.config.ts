import { z } from 'zod';

/** Requests a backtest indexes at most: an id and a log position each, so memory stays bounded whatever the log. */
export const DEFAULT_BACKTEST_MAX_REQUESTS = 200_000;
/** Wall time a backtest may spend evaluating; past it the report says what it covered. */
export const DEFAULT_BACKTEST_MAX_MS = 120_000;

const BacktestConfigSchema = z.object({
  POLICY_BACKTEST_MAX_REQUESTS: z.coerce.number().int().min(1).max(10_000_000).default(DEFAULT_BACKTEST_MAX_REQUESTS),
  POLICY_BACKTEST_MAX_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(DEFAULT_BACKTEST_MAX_MS),
});

export interface BacktestConfig {
  readonly maxRequests: number;
  readonly maxMillis: number;
}

export const BACKTEST_CONFIG = Symbol('BACKTEST_CONFIG');

const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/** `POLICY_BACKTEST_MAX_REQUESTS` and `POLICY_BACKTEST_MAX_MS`; a bad value stops the start and names the variable. */
export function loadBacktestConfig(env: NodeJS.ProcessEnv = process.env): BacktestConfig {
  const parsed = BacktestConfigSchema.safeParse({
    POLICY_BACKTEST_MAX_REQUESTS: blankToUndefined(env['POLICY_BACKTEST_MAX_REQUESTS']),
    POLICY_BACKTEST_MAX_MS: blankToUndefined(env['POLICY_BACKTEST_MAX_MS']),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid policy configuration: ${problems.join('; ')}`);
  }
  return { maxRequests: parsed.data.POLICY_BACKTEST_MAX_REQUESTS, maxMillis: parsed.data.POLICY_BACKTEST_MAX_MS };
}
