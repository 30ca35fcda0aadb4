import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from './approval.config';

// A minimal copy of the intake's verifier (apps/intake/src/auth/jwt-verifier.ts) until a shared auth library
// exists: apps may not import each other.

export const PRINCIPAL_HEADER = 'x-grantline-principal';
export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');

/** Asymmetric algorithms only: `none` and shared-secret HMAC tokens are never accepted. */
const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export class UnauthenticatedError extends Error {}

export interface PrincipalInput {
  readonly authorization?: string;
  readonly principalHeader?: string;
}

/** Who is calling: the verified token's subject (or, in dev mode without a token, the principal header). */
export type PrincipalResolver = (input: PrincipalInput) => Promise<string>;

const reasonOf = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim ${error.claim} is not acceptable`;
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'token algorithm not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'token signature does not verify';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'the issuer keys could not be loaded';
  return 'token is not a valid signed JWT';
};

/** Verifies a bearer JWT (signature, algorithm, issuer, audience, expiry) and returns its subject. */
export const verifyBearer = async (authorization: string, keys: JWTVerifyGetKey, issuer: string, audience: string, now?: Date): Promise<string> => {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) throw new UnauthenticatedError('expected "Authorization: Bearer <token>"');
  let subject: unknown;
  try {
    const { payload } = await jwtVerify(match[1], keys, {
      issuer,
      audience,
      algorithms: ACCEPTED_ALGORITHMS,
      clockTolerance: 30,
      requiredClaims: ['exp', 'sub'],
      ...(now ? { currentDate: now } : {}),
    });
    subject = payload.sub;
  } catch (error) {
    throw new UnauthenticatedError(reasonOf(error));
  }
  if (typeof subject !== 'string' || subject === '' || /\s/.test(subject) || subject.length > 200) {
    throw new UnauthenticatedError('token has no usable subject');
  }
  return subject;
};

/** The dev issuer's public key, read from the key pair the intake keeps under DEV_ISSUER_DIR. */
const devIssuerKeys = (dir: string): JWTVerifyGetKey => {
  let keys: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    if (!keys) {
      const raw = await readFile(join(dir, 'private.jwk.json'), 'utf8').catch(() => {
        throw new UnauthenticatedError(`no dev issuer key in ${dir}: start the intake once, or mint a token with tools/dev-token`);
      });
      const { d: _secret, ...publicJwk } = JSON.parse(raw) as JWK;
      keys = createLocalJWKSet({ keys: [{ ...publicJwk, use: 'sig' }] });
    }
    return keys(header, token);
  };
};

const keysFor = (auth: AuthConfig): JWTVerifyGetKey => {
  if (auth.mode === 'dev') return devIssuerKeys(auth.devIssuerDir);
  if (auth.jwksUrl !== undefined) return createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  const file = auth.jwksFile ?? '';
  let keys: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    keys ??= createLocalJWKSet(JSON.parse(await readFile(file, 'utf8')) as JSONWebKeySet);
    return keys(header, token);
  };
};

export const principalResolverFor = (auth: AuthConfig, keys: JWTVerifyGetKey = keysFor(auth)): PrincipalResolver => {
  return async ({ authorization, principalHeader }) => {
    if (authorization !== undefined && authorization !== '') return verifyBearer(authorization, keys, auth.issuer, auth.audience);
    // The header names the caller without any proof: dev mode only, for local scripts and specs.
    if (auth.mode === 'dev' && principalHeader !== undefined) {
      const principal = principalHeader.trim();
      if (principal === '' || /\s/.test(principal) || principal.length > 200) throw new UnauthenticatedError(`${PRINCIPAL_HEADER} must be an identity id`);
      return principal;
    }
    throw new UnauthenticatedError(auth.mode === 'dev' ? `a bearer token (or, in dev mode, the ${PRINCIPAL_HEADER} header) is required` : 'a bearer token is required');
  };
};
