import { resolve } from 'node:path';
import { z } from 'zod';
import { bearerAuthConfigFrom } from '@grantline/http-edge';
import type { BearerAuthConfig } from '@grantline/http-edge';
import { OrphanedGrantsDispositionSchema, isoDurationToMillis } from '@grantline/contracts';
import { DEFAULT_OWNERSHIP_POLICY } from '../identities/leaver-cascade';
import type { OwnershipPolicy } from '../identities/leaver-cascade';

/** The repository root, for the defaults that point into it (catalog/, .grantline/). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

export const AuthModeSchema = z.enum(['dev', 'oidc']);
export type AuthMode = z.infer<typeof AuthModeSchema>;

export interface IntakeConfig {
  readonly authMode: AuthMode;
  /** Bearer authentication as every service reads it (@grantline/http-edge); `auth.mode` is `authMode`. */
  readonly auth: BearerAuthConfig;
  readonly issuer: string;
  readonly audience: string;
  readonly devIssuerDir: string;
  readonly catalogDir: string;
  /** How long an HTTP request waits for Kafka to acknowledge its event before answering 503. */
  readonly publishTimeoutMs: number;
  /** Bodies up to this size reach validation, so an oversized field is reported by name. */
  readonly bodyLimitBytes: number;
  /** What happens to the machine identities a leaver owned (docs/adr on NHI ownership). */
  readonly ownership: OwnershipPolicy;
}

export class IntakeConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`invalid intake configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'IntakeConfigError';
  }
}

const EnvSchema = z.object({
  AUTH_MODE: AuthModeSchema.optional(),
  OIDC_ISSUER: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_JWKS_FILE: z.string().min(1).optional(),
  DEV_ISSUER_DIR: z.string().min(1).optional(),
  AUTH_ROLES_CLAIM: z.string().min(1).optional(),
  AUTH_ROLE_MAP: z.string().optional(),
  HOST: z.string().min(1).optional(),
  CATALOG_DIR: z.string().min(1).optional(),
  NODE_ENV: z.string().optional(),
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(2 * 1024 * 1024),
  OWNERSHIP_TRANSFER_WITHIN: z
    .string()
    .refine((value) => (isoDurationToMillis(value) ?? 0) > 0, { message: 'expected a positive ISO-8601 duration, e.g. P14D' })
    .default(DEFAULT_OWNERSHIP_POLICY.transferWithin),
  OWNERSHIP_TRANSFER_FALLBACK_ROLE: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,49}$/, { message: 'expected a role name, e.g. security' })
    .default(DEFAULT_OWNERSHIP_POLICY.fallbackRole),
  ORPHANED_NHI_GRANTS: OrphanedGrantsDispositionSchema.default(DEFAULT_OWNERSHIP_POLICY.grantsDisposition),
});

/**
 * Reads the intake's own variables. AUTH_MODE defaults to `dev` (the local dev issuer) unless an OIDC issuer is
 * configured; in production (`NODE_ENV=production`) the dev issuer must be asked for explicitly.
 */
export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new IntakeConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.map(String).join('.'), message: issue.message })));
  }
  const vars = parsed.data;
  const auth = bearerAuthConfigFrom(vars, resolve(REPO_ROOT, '.grantline/dev-issuer'));
  if (!auth.ok) throw new IntakeConfigError(auth.problems);
  return {
    authMode: auth.config.mode,
    auth: auth.config,
    issuer: auth.config.issuer,
    audience: auth.config.audience,
    devIssuerDir: auth.config.devIssuerDir,
    catalogDir: resolve(vars.CATALOG_DIR ?? resolve(REPO_ROOT, 'catalog')),
    publishTimeoutMs: vars.PUBLISH_TIMEOUT_MS,
    bodyLimitBytes: vars.BODY_LIMIT_BYTES,
    ownership: {
      transferWithin: vars.OWNERSHIP_TRANSFER_WITHIN,
      fallbackRole: vars.OWNERSHIP_TRANSFER_FALLBACK_ROLE,
      grantsDisposition: vars.ORPHANED_NHI_GRANTS,
    },
  };
}

export const INTAKE_CONFIG = Symbol('INTAKE_CONFIG');
