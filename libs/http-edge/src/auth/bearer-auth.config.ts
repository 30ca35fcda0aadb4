import { resolve } from 'node:path';
import { DEV_ISSUER, readDevIssuerJwks } from './dev-issuer.keys';
import { JwtVerifier, lazyKeys } from './jwt-verifier';
import type { JwtVerifierOptions } from './jwt-verifier';
import { DEFAULT_ROLES_CLAIM, parseRoleMap } from './roles';
import type { RoleMapping } from './roles';

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
  /** Where a token carries its roles and how they map onto Grantline's. */
  readonly roles: RoleMapping;
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
  /** The claim (or dotted path) holding the caller's roles or groups; default `roles`. */
  readonly AUTH_ROLES_CLAIM?: string;
  /** `idp-name=grantline-role,...`: the IdP's role or group names mapped onto Grantline roles. */
  readonly AUTH_ROLE_MAP?: string;
  /** The address the service listens on; dev auth is refused unless it is a loopback address. */
  readonly HOST?: string;
}

/** Dev tokens prove nothing outside this machine: dev auth is allowed only on these listen addresses. */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

export interface BearerAuthConfigProblem {
  readonly variable: string;
  readonly message: string;
}

export type BearerAuthConfigResult =
  { readonly ok: true; readonly config: BearerAuthConfig } | { readonly ok: false; readonly problems: readonly BearerAuthConfigProblem[] };

/**
 * AUTH_MODE defaults to `dev` unless an OIDC issuer is configured or `NODE_ENV=production`. Dev auth (tokens any
 * local user can mint) is refused in production and on any listen address but loopback: it fails closed rather
 * than exposing a control plane whose tokens prove nothing. `defaultDevIssuerDir` is where the dev key pair lives.
 */
export function bearerAuthConfigFrom(env: BearerAuthEnv, defaultDevIssuerDir: string): BearerAuthConfigResult {
  const mode: AuthMode = env.AUTH_MODE ?? (env.OIDC_ISSUER !== undefined || env.NODE_ENV === 'production' ? 'oidc' : 'dev');
  const problems: BearerAuthConfigProblem[] = [];
  if (mode === 'dev' && env.NODE_ENV === 'production') {
    problems.push({
      variable: 'AUTH_MODE',
      message: 'dev auth is refused with NODE_ENV=production: dev tokens can be minted by anyone on the machine; configure OIDC_ISSUER',
    });
  }
  const host = env.HOST ?? '127.0.0.1';
  if (mode === 'dev' && !isLoopbackHost(host)) {
    problems.push({
      variable: 'HOST',
      message: `dev auth is refused on ${host}: it is allowed only on a loopback address (127.0.0.1, ::1, localhost); configure OIDC_ISSUER to listen elsewhere`,
    });
  }
  const roleMap = parseRoleMap(env.AUTH_ROLE_MAP);
  if (!roleMap.ok) problems.push({ variable: 'AUTH_ROLE_MAP', message: roleMap.message });
  const rolesClaim = env.AUTH_ROLES_CLAIM ?? DEFAULT_ROLES_CLAIM;
  if (!/^[A-Za-z0-9_:\-/]+(\.[A-Za-z0-9_:\-/]+)*$/.test(rolesClaim))
    problems.push({ variable: 'AUTH_ROLES_CLAIM', message: 'expected a claim name or a dotted path' });
  if (mode === 'oidc') {
    if (env.OIDC_ISSUER === undefined) problems.push({ variable: 'OIDC_ISSUER', message: 'required when AUTH_MODE=oidc' });
    if (env.OIDC_JWKS_URL === undefined && env.OIDC_JWKS_FILE === undefined) {
      problems.push({ variable: 'OIDC_JWKS_URL', message: 'OIDC_JWKS_URL or OIDC_JWKS_FILE is required when AUTH_MODE=oidc' });
    }
  }
  if (problems.length > 0 || !roleMap.ok) return { ok: false, problems };
  return {
    ok: true,
    config: {
      mode,
      issuer: mode === 'dev' ? DEV_ISSUER : (env.OIDC_ISSUER ?? ''),
      audience: env.OIDC_AUDIENCE ?? DEFAULT_AUDIENCE,
      ...(mode === 'oidc' && env.OIDC_JWKS_URL !== undefined ? { jwksUrl: env.OIDC_JWKS_URL } : {}),
      ...(mode === 'oidc' && env.OIDC_JWKS_FILE !== undefined ? { jwksFile: resolve(env.OIDC_JWKS_FILE) } : {}),
      devIssuerDir: resolve(env.DEV_ISSUER_DIR ?? defaultDevIssuerDir),
      roles: { claim: rolesClaim, map: roleMap.map },
    },
  };
}

/** Dev authentication as specs and local runs use it. */
export const devBearerAuth = (devIssuerDir: string): BearerAuthConfig => ({
  mode: 'dev',
  issuer: DEV_ISSUER,
  audience: DEFAULT_AUDIENCE,
  devIssuerDir,
  roles: { claim: DEFAULT_ROLES_CLAIM, map: new Map() },
});

/** The verifier the configuration selects; dev keys are read on first use, so the service may start before the intake made them. */
export function jwtVerifierFor(config: BearerAuthConfig, options: Pick<JwtVerifierOptions, 'clockToleranceSeconds' | 'now'> = {}): JwtVerifier {
  const verifierOptions: JwtVerifierOptions = { ...options, issuer: config.issuer, audience: config.audience, roles: config.roles };
  if (config.mode === 'dev') {
    const unavailable = `no dev issuer key in ${config.devIssuerDir}: start the intake once, or mint a token with tools/dev-token`;
    return new JwtVerifier(
      lazyKeys(() => readDevIssuerJwks(config.devIssuerDir), unavailable),
      verifierOptions,
    );
  }
  // A local key file wins over the URL: it is the explicit override (an air-gapped deployment, a test).
  if (config.jwksFile !== undefined) return JwtVerifier.fromJwksFile(config.jwksFile, verifierOptions);
  return JwtVerifier.fromJwksUrl(config.jwksUrl ?? '', verifierOptions);
}
