import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { ApprovalConfig } from './approval.config';

export const PRINCIPAL_HEADER = 'x-grantline-principal';
export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');

/** Asymmetric algorithms only: `none` and shared-secret tokens are refused whatever the header says. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export class UnauthenticatedError extends Error {}

export interface PrincipalInput {
  readonly authorization?: string;
  readonly principalHeader?: string;
}

/** Who is calling: the verified token's subject (or, in dev mode only, the principal header). */
export type PrincipalResolver = (input: PrincipalInput) => Promise<string>;

export const jwtPrincipalResolver = (keys: JWTVerifyGetKey, issuer: string, audience: string): PrincipalResolver => async ({ authorization }) => {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) throw new UnauthenticatedError('a bearer token is required');
  try {
    const { payload } = await jwtVerify(match[1], keys, { issuer, audience, algorithms: ALGORITHMS, requiredClaims: ['sub', 'exp'] });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new UnauthenticatedError('the token has no subject');
    return payload.sub;
  } catch (error) {
    if (error instanceof UnauthenticatedError) throw error;
    throw new UnauthenticatedError(`invalid token: ${error instanceof Error ? error.message : String(error)}`);
  }
};

/** Dev mode: the caller names themselves. Only ever enabled by AUTH_MODE=dev. */
export const devPrincipalResolver: PrincipalResolver = async ({ principalHeader }) => {
  const principal = principalHeader?.trim();
  if (!principal || /\s/.test(principal)) throw new UnauthenticatedError(`AUTH_MODE=dev: the ${PRINCIPAL_HEADER} header names the caller`);
  return principal;
};

export const principalResolverFor = (config: ApprovalConfig): PrincipalResolver => {
  if (config.authMode === 'dev') return devPrincipalResolver;
  const { oidc } = config;
  if (!oidc) {
    return async () => {
      throw new UnauthenticatedError('OIDC is not configured (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL)');
    };
  }
  return jwtPrincipalResolver(createRemoteJWKSet(new URL(oidc.jwksUrl)), oidc.issuer, oidc.audience);
};
