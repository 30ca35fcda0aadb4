import { AuthenticationError } from './jwt-verifier';
import type { Principal } from './jwt-verifier';

/** Anything that turns a bearer token into a principal (JwtVerifier; a stub in specs). */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

const first = (value: string | readonly string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);

/**
 * Who is calling: the verified token's subject and roles. Failures are AuthenticationError, to be answered 401.
 * There is no other way in: no header names a principal, in dev mode or any other.
 */
export class BearerAuthenticator {
  constructor(private readonly verifier: TokenVerifier) {}

  /** `headers` as node gives them: names in lower case. */
  async authenticate(headers: RequestHeaders): Promise<Principal> {
    const authorization = first(headers['authorization']);
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AuthenticationError('missing', 'an Authorization: Bearer <token> header is required');
    return this.verifier.verify(match[1]);
  }
}
