import { z } from 'zod';
import { SealingKey } from './credentials/sealing-key';

/** What every connector service reads from its environment, whatever its target. */
export interface ConnectorHostConfig {
  /** The connector id in topic names (`iga.connectors.<id>.commands.v1`) and in the catalogue's systems. */
  readonly connectorId: string;
  /** Attempts per command inside the runner (retriable errors only), with exponential backoff. */
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * `CREDENTIAL_SEALING_KEY`: issued secrets are sealed under it for their one-time handoff. Without it the host
   * keeps no secret, and a command asking for a credential fails terminally (nothing is issued).
   */
  readonly sealingKey?: SealingKey;
}

export const CONNECTOR_HOST_CONFIG = Symbol('CONNECTOR_HOST_CONFIG');

const CONNECTOR_ID = /^[a-z0-9][a-z0-9-]{0,99}$/;

function hostEnvSchema(defaultConnectorId: string) {
  return z.object({
    CONNECTOR_ID: z.string().regex(CONNECTOR_ID, { message: 'Invalid connector id: lower-case letters, digits, "-"' }).default(defaultConnectorId),
    CONNECTOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    CONNECTOR_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(200),
    CONNECTOR_RETRY_MAX_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
    CREDENTIAL_SEALING_KEY: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === '') return undefined;
        try {
          return SealingKey.fromBase64(value);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected the base64 encoding of 32 random bytes' });
          return z.NEVER;
        }
      }),
  });
}

export interface ConnectorConfigSpec<S extends z.ZodType, T extends object> {
  /** CONNECTOR_ID when the environment does not set one. */
  readonly defaultConnectorId: string;
  /** The target's own variables (e.g. `PG_URL`); the host's are added. */
  readonly env: S;
  /** The target's part of the configuration, from its parsed variables. */
  readonly target: (env: z.output<S>) => T;
  /** The connector issues credentials: `CREDENTIAL_SEALING_KEY` is required (a connector of credentials only). */
  readonly requiresSealingKey?: boolean;
}

/**
 * The loader of one connector's configuration: the host's variables and the target's, parsed side by side so one
 * error names every bad variable. Values are never echoed: a target URL carries a password.
 */
export function connectorConfigLoader<S extends z.ZodType, T extends object>(
  spec: ConnectorConfigSpec<S, T>,
): (env?: NodeJS.ProcessEnv) => ConnectorHostConfig & T {
  if (!CONNECTOR_ID.test(spec.defaultConnectorId)) throw new RangeError(`invalid default connector id ${spec.defaultConnectorId}`);
  const hostSchema = hostEnvSchema(spec.defaultConnectorId);
  return (env = process.env) => {
    const host = hostSchema.safeParse(env);
    const target = spec.env.safeParse(env);
    const missingKey =
      spec.requiresSealingKey === true && host.success && host.data.CREDENTIAL_SEALING_KEY === undefined
        ? [{ path: ['CREDENTIAL_SEALING_KEY'], message: 'Required: this connector issues credentials' }]
        : [];
    if (!host.success || !target.success || missingKey.length > 0) {
      const issues = [...(host.error?.issues ?? []), ...missingKey, ...(target.error?.issues ?? [])];
      const problems = issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      throw new Error(`invalid connector configuration: ${problems.join('; ')}`);
    }
    const data = host.data;
    return {
      ...spec.target(target.data),
      ...(data.CREDENTIAL_SEALING_KEY === undefined ? {} : { sealingKey: data.CREDENTIAL_SEALING_KEY }),
      connectorId: data.CONNECTOR_ID,
      retry: { maxAttempts: data.CONNECTOR_MAX_ATTEMPTS, baseDelayMs: data.CONNECTOR_RETRY_BASE_MS, maxDelayMs: data.CONNECTOR_RETRY_MAX_MS },
    };
  };
}
