import { z } from 'zod';
import { isoDurationToMillis } from '@grantline/contracts';

const ConnectorIdsSchema = z
  .string()
  .transform((value) => [
    ...new Set(
      value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ])
  .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' })).min(1, { message: 'name at least one connector' }));

export const ProvisioningConfigSchema = z.object({
  /** The connectors this service commands (and whose results it consumes). */
  PROVISIONING_CONNECTOR_IDS: ConnectorIdsSchema.default(['postgres']),
  /** Commands per operation before a grant is declared failed / irrevocable. */
  PROVISIONING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** How often each connector's target is reconciled against the grants (ISO-8601, at least PT1S), or `off`. */
  PROVISIONING_RECONCILE_EVERY: z
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
  /** How long a removal may wait (or a grant stay past its expiry) before it counts in grantline_revocations_overdue. */
  PROVISIONING_REVOCATION_OVERDUE_AFTER: z
    .string()
    .default('PT5M')
    .transform((value, ctx) => {
      const ms = isoDurationToMillis(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 duration (e.g. PT5M)' });
        return z.NEVER;
      }
      return ms;
    }),
});

export interface ProvisioningConfig {
  readonly connectorIds: readonly string[];
  readonly maxAttempts: number;
  /** Milliseconds between reconciliations of each connector's target; undefined: never. */
  readonly reconcileEveryMs?: number;
  /** Milliseconds a removal may wait before it is overdue (metrics and alerts). */
  readonly revocationOverdueAfterMs?: number;
}

export const PROVISIONING_CONFIG = Symbol('PROVISIONING_CONFIG');

export function loadProvisioningConfig(env: NodeJS.ProcessEnv = process.env): ProvisioningConfig {
  const parsed = ProvisioningConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid provisioning configuration: ${problems.join('; ')}`);
  }
  const data = parsed.data;
  return {
    connectorIds: data.PROVISIONING_CONNECTOR_IDS,
    maxAttempts: data.PROVISIONING_MAX_ATTEMPTS,
    revocationOverdueAfterMs: data.PROVISIONING_REVOCATION_OVERDUE_AFTER,
    ...(data.PROVISIONING_RECONCILE_EVERY === undefined ? {} : { reconcileEveryMs: data.PROVISIONING_RECONCILE_EVERY }),
  };
}
