import { z } from 'zod';
import { connectorConfigLoader } from '@grantline/connector-host';

/** The target's variables; CONNECTOR_ID and CONNECTOR_MAX_ATTEMPTS / CONNECTOR_RETRY_* are the host's. */
export const ScimEnvSchema = z.object({
  /** The application's SCIM 2.0 base, e.g. https://crm.example.com/scim/v2. */
  SCIM_URL: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL of the SCIM base, e.g. https://crm.example.com/scim/v2' }),
  /** The application's API token for SCIM; never logged, never echoed in an error. */
  SCIM_BEARER_TOKEN: z.string().min(16, { message: 'expected the bearer token (at least 16 characters)' }),
  /** Only groups whose displayName starts with this are ever changed or listed. */
  SCIM_MANAGED_GROUP_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: 'letters, digits, dot, underscore and hyphen; 1-64 characters' })
    .default('grantline-'),
  SCIM_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SCIM_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
});

export const loadConnectorConfig = connectorConfigLoader({
  defaultConnectorId: 'scim',
  env: ScimEnvSchema,
  target: (env) => ({
    scimUrl: env.SCIM_URL,
    bearerToken: env.SCIM_BEARER_TOKEN,
    managedGroupPrefix: env.SCIM_MANAGED_GROUP_PREFIX,
    requestTimeoutMs: env.SCIM_REQUEST_TIMEOUT_MS,
    pageSize: env.SCIM_PAGE_SIZE,
  }),
});

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;
