import { resolve } from 'node:path';
import { z } from 'zod';

/** The repository root, for the defaults that point into it (catalog/, .grantline/). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

export const DEV_ISSUER = 'urn:grantline:dev-issuer';
export const DEFAULT_AUDIENCE = 'grantline';

export const AuthModeSchema = z.enum(['dev', 'oidc']);
export type AuthMode = z.infer<typeof AuthModeSchema>;

export interface IntakeConfig {
  readonly authMode: AuthMode;
  readonly issuer: string;
  readonly audience: string;
  /** oidc: where the issuer's keys are fetched from (or a local JWKS file); dev: unused. */
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  readonly devIssuerDir: string;
  readonly catalogDir: string;
  /** How long an HTTP request waits for Kafka to acknowledge its event before answering 503. */
  readonly publishTimeoutMs: number;
  /** Bodies up to this size reach validation, so an oversized field is reported by name. */
  readonly bodyLimitBytes: number;
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
  CATALOG_DIR: z.string().min(1).optional(),
  NODE_ENV: z.string().optional(),
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(2 * 1024 * 1024),
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
  const production = vars.NODE_ENV === 'production';
  const authMode: AuthMode = vars.AUTH_MODE ?? (vars.OIDC_ISSUER !== undefined || production ? 'oidc' : 'dev');
  const problems: { variable: string; message: string }[] = [];
  if (authMode === 'oidc') {
    if (vars.OIDC_ISSUER === undefined) problems.push({ variable: 'OIDC_ISSUER', message: 'required when AUTH_MODE=oidc' });
    if (vars.OIDC_JWKS_URL === undefined && vars.OIDC_JWKS_FILE === undefined) {
      problems.push({ variable: 'OIDC_JWKS_URL', message: 'OIDC_JWKS_URL or OIDC_JWKS_FILE is required when AUTH_MODE=oidc' });
    }
  }
  if (problems.length > 0) throw new IntakeConfigError(problems);
  return {
    authMode,
    issuer: authMode === 'dev' ? DEV_ISSUER : (vars.OIDC_ISSUER as string),
    audience: vars.OIDC_AUDIENCE ?? DEFAULT_AUDIENCE,
    ...(authMode === 'oidc' && vars.OIDC_JWKS_URL !== undefined ? { jwksUrl: vars.OIDC_JWKS_URL } : {}),
    ...(authMode === 'oidc' && vars.OIDC_JWKS_FILE !== undefined ? { jwksFile: resolve(vars.OIDC_JWKS_FILE) } : {}),
    devIssuerDir: resolve(vars.DEV_ISSUER_DIR ?? resolve(REPO_ROOT, '.grantline/dev-issuer')),
    catalogDir: resolve(vars.CATALOG_DIR ?? resolve(REPO_ROOT, 'catalog')),
    publishTimeoutMs: vars.PUBLISH_TIMEOUT_MS,
    bodyLimitBytes: vars.BODY_LIMIT_BYTES,
  };
}

export const INTAKE_CONFIG = Symbol('INTAKE_CONFIG');
