import { z } from 'zod';

const ConnectorIdsSchema = z
  .string()
  .transform((value) => [...new Set(value.split(',').map((id) => id.trim()).filter(Boolean))])
  .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' })).min(1, { message: 'name at least one connector' }));

export const ProvisioningConfigSchema = z.object({
  /** The connectors this service commands (and whose results it consumes). */
  PROVISIONING_CONNECTOR_IDS: ConnectorIdsSchema.default(['postgres']),
  /** Commands per operation before a grant is declared failed / irrevocable. */
  PROVISIONING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
});

export interface ProvisioningConfig {
  readonly connectorIds: readonly string[];
  readonly maxAttempts: number;
}

export const PROVISIONING_CONFIG = Symbol('PROVISIONING_CONFIG');

export function loadProvisioningConfig(env: NodeJS.ProcessEnv = process.env): ProvisioningConfig {
  const parsed = ProvisioningConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid provisioning configuration: ${problems.join('; ')}`);
  }
  const data = parsed.data;
  return { connectorIds: data.PROVISIONING_CONNECTOR_IDS, maxAttempts: data.PROVISIONING_MAX_ATTEMPTS };
}
