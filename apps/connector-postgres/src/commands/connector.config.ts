import { z } from 'zod';

export const ConnectorConfigSchema = z.object({
  /** The connector id in topic names (`iga.connectors.<id>.commands.v1`) and in the catalogue's systems. */
  CONNECTOR_ID: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, { message: 'Invalid connector id: lower-case letters, digits, "-"' }).default('postgres'),
  /** A role with CREATEROLE (PG 16+: ADMIN OPTION on the managed groups). */
  PG_URL: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected postgres://user:password@host:port/database' }),
  /** Only group roles starting with this are ever granted or revoked. */
  PG_MANAGED_ROLE_PREFIX: z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/).default('grantline_'),
  /** Login roles minted as NHI credentials start with this. */
  PG_CREDENTIAL_ROLE_PREFIX: z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/).default('grantline_cred_'),
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Attempts per command inside the runner (retriable errors only), with exponential backoff. */
  CONNECTOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  CONNECTOR_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  CONNECTOR_RETRY_MAX_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
});

export interface ConnectorConfig {
  readonly connectorId: string;
  readonly pgUrl: string;
  readonly managedRolePrefix: string;
  readonly credentialRolePrefix: string;
  readonly statementTimeoutMs: number;
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
}

export const CONNECTOR_CONFIG = Symbol('CONNECTOR_CONFIG');

export function loadConnectorConfig(env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const parsed = ConnectorConfigSchema.safeParse(env);
  if (!parsed.success) {
    // Never echo the value: PG_URL carries a password.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid connector configuration: ${problems.join('; ')}`);
  }
  const data = parsed.data;
  return {
    connectorId: data.CONNECTOR_ID,
    pgUrl: data.PG_URL,
    managedRolePrefix: data.PG_MANAGED_ROLE_PREFIX,
    credentialRolePrefix: data.PG_CREDENTIAL_ROLE_PREFIX,
    statementTimeoutMs: data.PG_STATEMENT_TIMEOUT_MS,
    retry: { maxAttempts: data.CONNECTOR_MAX_ATTEMPTS, baseDelayMs: data.CONNECTOR_RETRY_BASE_MS, maxDelayMs: data.CONNECTOR_RETRY_MAX_MS },
  };
}
