import { z } from 'zod';
import { isoDurationToMillis } from '@grantline/contracts';

export const DEFAULT_DIRECTORY_WAIT_MS = 30_000;
export const DEFAULT_SOD_SCAN_EVERY_MS = 3_600_000;

export const PolicyConfigSchema = z.object({
  /**
   * How long a request that names an identity, entitlement or access package the service has not consumed
   * yet waits for it before it is refused as unknown. 0 refuses at once (after one catch-up read).
   */
  POLICY_DIRECTORY_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_DIRECTORY_WAIT_MS),
  /** How often the detective SoD scan runs (ISO-8601, at least PT1S), or `off` (on demand only). */
  SOD_SCAN_EVERY: z
    .string()
    .default('PT1H')
    .transform((value, ctx) => {
      if (value === 'off') return undefined;
      const ms = isoDurationToMillis(value);
      if (ms === undefined || ms < 1000) {
        ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 duration of at least PT1S (e.g. PT1H), or off' });
        return z.NEVER;
      }
      return ms;
    }),
});

export interface PolicyConfig {
  readonly directoryWaitMs: number;
  /** undefined: no scheduled scan. */
  readonly sodScanEveryMs?: number;
}

export const POLICY_CONFIG = Symbol('POLICY_CONFIG');

const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/** Reads the policy service's own settings; a bad value stops the start and names the variable. */
export function loadPolicyConfig(env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const parsed = PolicyConfigSchema.safeParse({
    POLICY_DIRECTORY_WAIT_MS: blankToUndefined(env['POLICY_DIRECTORY_WAIT_MS']),
    SOD_SCAN_EVERY: blankToUndefined(env['SOD_SCAN_EVERY']),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid policy configuration: ${problems.join('; ')}`);
  }
  return {
    directoryWaitMs: parsed.data.POLICY_DIRECTORY_WAIT_MS,
    ...(parsed.data.SOD_SCAN_EVERY === undefined ? {} : { sodScanEveryMs: parsed.data.SOD_SCAN_EVERY }),
  };
}
