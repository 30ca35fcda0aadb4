import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { DEFAULT_ROLE_MAPPING, principalKindOf, rolesOf } from './roles';
import type { GrantlineRole, PrincipalKind, RoleMapping } from './roles';

/** Asymmetric algorithms only: `none` and shared-secret HMAC tokens are never accepted. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const;

export interface Principal {
  /** The token subject: the actor of every event this request causes. */
  readonly subject: string;
  readonly name?: string;
  /** A person (user token) or a workload (client-credentials token). */
  readonly kind: PrincipalKind;
  /** Grantline roles, mapped from the token's roles claim; every person is a `member`. */
  readonly roles: ReadonlySet<GrantlineRole>;
  readonly claims: JWTPayload;
}

export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'unsupported_algorithm'
  | 'no_subject'
  | 'keys_unavailable';

export class AuthenticationError extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Tolerated clock skew between the issuer and us. */
  readonly clockToleranceSeconds?: number;
  /** Injected time, for tests. */
  readonly now?: () => Date;
  /** Where the roles are in a token and how they map onto Grantline's; default: the `roles` claim, names as they are. */
  readonly roles?: RoleMapping;
}

function classify(error: unknown): AuthenticationError {
  if (error instanceof errors.JWTExpired) return new AuthenticationError('expired', 'token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new AuthenticationError('wrong_issuer', 'token issued by an untrusted issuer');
    if (error.claim === 'aud') return new AuthenticationError('wrong_audience', 'token not intended for this audience');
    if (error.claim === 'nbf' || error.claim === 'iat') return new AuthenticationError('not_yet_valid', `token ${error.claim} claim is not acceptable`);
    return new AuthenticationError('malformed', `token claim ${error.claim} is invalid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError('unsupported_algorithm', 'token algorithm not accepted');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return new AuthenticationError('bad_signature', 'token signature does not verify');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthenticationError('keys_unavailable', 'the issuer keys could not be loaded');
  }
  return new AuthenticationError('malformed', 'token is not a valid signed JWT');
}

/** A key set loaded on first use (and again after a failed load), so a service starts before its key file exists. */
export function lazyKeys(load: () => Promise<JSONWebKeySet>, unavailable: string): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    if (!keys) {
      const jwks = await load().catch(() => {
        throw new AuthenticationError('keys_unavailable', unavailable);
      });
      keys = createLocalJWKSet(jwks);
    }
    return keys(header, token);
  };
}

/** Verifies OIDC bearer tokens against a key set: signature, algorithm, issuer, audience, expiry, subject. */
export class JwtVerifier {
  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly options: JwtVerifierOptions,
  ) {}

  static fromJwks(jwks: JSONWebKeySet, options: JwtVerifierOptions): JwtVerifier {
    return new JwtVerifier(createLocalJWKSet(jwks), options);
  }

  /** The file is read on the first token and kept once it parses; until then a failure answers keys_unavailable. */
  static fromJwksFile(path: string, options: JwtVerifierOptions): JwtVerifier {
    return new JwtVerifier(
      lazyKeys(async () => JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet, `no JWKS in ${path}`),
      options,
    );
  }

  static fromJwksUrl(url: string, options: JwtVerifierOptions): JwtVerifier {
    return new JwtVerifier(createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000 }), options);
  }

  async verify(token: string): Promise<Principal> {
    if (token.trim() === '') throw new AuthenticationError('missing', 'no bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...ACCEPTED_ALGORITHMS],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'sub'],
        ...(this.options.now ? { currentDate: this.options.now() } : {}),
      }));
    } catch (error) {
      throw error instanceof AuthenticationError ? error : classify(error);
    }
    if (typeof payload.sub !== 'string' || payload.sub.trim() === '' || /\s/.test(payload.sub) || payload.sub.length > 200) {
      throw new AuthenticationError('no_subject', 'token has no usable subject');
    }
    const name = typeof payload['name'] === 'string' ? payload['name'] : undefined;
    const kind = principalKindOf(payload);
    return {
      subject: payload.sub,
      ...(name === undefined ? {} : { name }),
      kind,
      roles: rolesOf(payload, kind, this.options.roles ?? DEFAULT_ROLE_MAPPING),
      claims: payload,
    };
  }
}
