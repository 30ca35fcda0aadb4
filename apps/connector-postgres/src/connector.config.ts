import { z } from 'zod';
import { connectorConfigLoader } from '@grantline/connector-host';

/** The target's variables; CONNECTOR_ID and CONNECTOR_MAX_ATTEMPTS / CONNECTOR_RETRY_* are the host's. */
export const PostgresEnvSchema = z.object({
  /** A role with CREATEROLE (PG 16+: ADMIN OPTION on the managed groups). */
  PG_URL: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected postgres://user:password@host:port/database' }),
  /** Only group roles starting with this are ever granted or revoked. */
  PG_MANAGED_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/)
    .default('grantline_'),
  /** Login roles minted as NHI credentials start with this. */
  PG_CREDENTIAL_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/)
    .default('grantline_cred_'),
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

export const loadConnectorConfig = connectorConfigLoader({
  defaultConnectorId: 'postgres',
  env: PostgresEnvSchema,
  target: (env) => ({
    pgUrl: env.PG_URL,
    managedRolePrefix: env.PG_MANAGED_ROLE_PREFIX,
    credentialRolePrefix: env.PG_CREDENTIAL_ROLE_PREFIX,
    statementTimeoutMs: env.PG_STATEMENT_TIMEOUT_MS,
  }),
});

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;
