import { resolve } from 'node:path';
import { DEV_ISSUER, readDevIssuerJwks } from './dev-issuer.keys';
import { JwtVerifier, lazyKeys } from './jwt-verifier';
import type { JwtVerifierOptions } from './jwt-verifier';

export const DEFAULT_AUDIENCE = 'grantline';

/** `oidc`: tokens of a real issuer, keys from OIDC_JWKS_URL or OIDC_JWKS_FILE. `dev`: tokens of the local dev issuer. */
export type AuthMode = 'oidc' | 'dev';

export interface BearerAuthConfig {
  readonly mode: AuthMode;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  readonly devIssuerDir: string;
}

/** The variables every service with a bearer-authenticated API reads (empty strings count as unset). */
export interface BearerAuthEnv {
  readonly AUTH_MODE?: AuthMode;
  readonly NODE_ENV?: string;
  readonly OIDC_ISSUER?: string;
  readonly OIDC_AUDIENCE?: string;
  readonly OIDC_JWKS_URL?: string;
  readonly OIDC_JWKS_FILE?: string;
  readonly DEV_ISSUER_DIR?: string;
}

export interface BearerAuthConfigProblem {
  readonly variable: string;
  readonly message: string;
}

export type BearerAuthConfigResult = { readonly ok: true; readonly config: BearerAuthConfig } | { readonly ok: false; readonly problems: readonly BearerAuthConfigProblem[] };

/**
 * AUTH_MODE defaults to `dev` unless an OIDC issuer is configured; in production (`NODE_ENV=production`) the dev
 * issuer must be asked for explicitly. `defaultDevIssuerDir` is where the repository keeps the dev key pair.
 */
export function bearerAuthConfigFrom(env: BearerAuthEnv, defaultDevIssuerDir: string): BearerAuthConfigResult {
  const mode: AuthMode = env.AUTH_MODE ?? (env.OIDC_ISSUER !== undefined || env.NODE_ENV === 'production' ? 'oidc' : 'dev');
  const problems: BearerAuthConfigProblem[] = [];
  if (mode === 'oidc') {
    if (env.OIDC_ISSUER === undefined) problems.push({ variable: 'OIDC_ISSUER', message: 'required when AUTH_MODE=oidc' });
    if (env.OIDC_JWKS_URL === undefined && env.OIDC_JWKS_FILE === undefined) {
      problems.push({ variable: 'OIDC_JWKS_URL', message: 'OIDC_JWKS_URL or OIDC_JWKS_FILE is required when AUTH_MODE=oidc' });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      mode,
      issuer: mode === 'dev' ? DEV_ISSUER : (env.OIDC_ISSUER ?? ''),
      audience: env.OIDC_AUDIENCE ?? DEFAULT_AUDIENCE,
      ...(mode === 'oidc' && env.OIDC_JWKS_URL !== undefined ? { jwksUrl: env.OIDC_JWKS_URL } : {}),
      ...(mode === 'oidc' && env.OIDC_JWKS_FILE !== undefined ? { jwksFile: resolve(env.OIDC_JWKS_FILE) } : {}),
      devIssuerDir: resolve(env.DEV_ISSUER_DIR ?? defaultDevIssuerDir),
    },
  };
}

/** Dev authentication as specs and local runs use it. */
export const devBearerAuth = (devIssuerDir: string): BearerAuthConfig => ({ mode: 'dev', issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE, devIssuerDir });

/** The verifier the configuration selects; dev keys are read on first use, so the service may start before the intake made them. */
export function jwtVerifierFor(config: BearerAuthConfig, options: Pick<JwtVerifierOptions, 'clockToleranceSeconds' | 'now'> = {}): JwtVerifier {
  const verifierOptions: JwtVerifierOptions = { ...options, issuer: config.issuer, audience: config.audience };
  if (config.mode === 'dev') {
    const unavailable = `no dev issuer key in ${config.devIssuerDir}: start the intake once, or mint a token with tools/dev-token`;
    return new JwtVerifier(lazyKeys(() => readDevIssuerJwks(config.devIssuerDir), unavailable), verifierOptions);
  }
  // A local key file wins over the URL: it is the explicit override (an air-gapped deployment, a test).
  if (config.jwksFile !== undefined) return JwtVerifier.fromJwksFile(config.jwksFile, verifierOptions);
  return JwtVerifier.fromJwksUrl(config.jwksUrl ?? '', verifierOptions);
}
