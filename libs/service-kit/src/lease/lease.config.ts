import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_LEASE_SESSION_TIMEOUT_MS } from '@grantline/messaging';
import { ServiceConfigError } from '../config/service-config.schema';

/** How a leased service campaigns (see ADR 0012 and the README). */
export interface LeaseConfig {
  /** The lease group's session timeout: bounds the takeover after the active instance died without a word. */
  readonly sessionTimeoutMs: number;
  /** This instance in logs, in `/health/ready` and in the lease metadata. */
  readonly instanceId: string;
}

const envSchema = z.object({
  // Kafka brokers accept 6 s to 30 min by default (group.min/max.session.timeout.ms).
  SERVICE_LEASE_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(1_800_000),
  SERVICE_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - (at most 100)'),
});

const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/** Reads SERVICE_LEASE_SESSION_TIMEOUT_MS and SERVICE_INSTANCE_ID; throws ServiceConfigError naming each bad one. */
export function loadLeaseConfig(env: NodeJS.ProcessEnv = process.env): LeaseConfig {
  const parsed = envSchema.safeParse({
    SERVICE_LEASE_SESSION_TIMEOUT_MS: blankToUndefined(env['SERVICE_LEASE_SESSION_TIMEOUT_MS']) ?? DEFAULT_LEASE_SESSION_TIMEOUT_MS,
    SERVICE_INSTANCE_ID: blankToUndefined(env['SERVICE_INSTANCE_ID']) ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100),
  });
  if (!parsed.success) {
    throw new ServiceConfigError(parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })));
  }
  return { sessionTimeoutMs: parsed.data.SERVICE_LEASE_SESSION_TIMEOUT_MS, instanceId: parsed.data.SERVICE_INSTANCE_ID };
}
