import { z } from 'zod';

export const DEFAULT_DIRECTORY_WAIT_MS = 30_000;

export const PolicyConfigSchema = z.object({
  /**
   * How long a request that names an identity, entitlement or access package the service has not consumed
   * yet waits for it before it is refused as unknown. 0 refuses at once (after one catch-up read).
   */
  POLICY_DIRECTORY_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_DIRECTORY_WAIT_MS),
});

export interface PolicyConfig {
  readonly directoryWaitMs: number;
}

export const POLICY_CONFIG = Symbol('POLICY_CONFIG');

const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/** Reads the policy service's own settings; a bad value stops the start and names the variable. */
export function loadPolicyConfig(env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const parsed = PolicyConfigSchema.safeParse({ POLICY_DIRECTORY_WAIT_MS: blankToUndefined(env['POLICY_DIRECTORY_WAIT_MS']) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid policy configuration: ${problems.join('; ')}`);
  }
  return { directoryWaitMs: parsed.data.POLICY_DIRECTORY_WAIT_MS };
}
