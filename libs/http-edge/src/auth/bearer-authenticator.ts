import { AuthenticationError } from './jwt-verifier';
import type { Principal } from './jwt-verifier';

/** Anything that turns a bearer token into a principal (JwtVerifier; a stub in specs). */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export interface BearerAuthenticatorOptions {
  /**
   * Dev mode only: a request without a token may name its principal in this header (lower case), with no proof
   * at all. For local scripts and specs; leave unset in production.
   */
  readonly devPrincipalHeader?: string;
}

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

const first = (value: string | readonly string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);
const isIdentityId = (value: string): boolean => value !== '' && !/\s/.test(value) && value.length <= 200;

/** Who is calling: the verified token's subject. Failures are AuthenticationError, to be answered 401. */
export class BearerAuthenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly options: BearerAuthenticatorOptions = {},
  ) {}

  /** `headers` as node gives them: names in lower case. */
  async authenticate(headers: RequestHeaders): Promise<Principal> {
    const authorization = first(headers['authorization']);
    const header = this.options.devPrincipalHeader;
    if ((authorization === undefined || authorization === '') && header !== undefined) {
      const named = first(headers[header])?.trim();
      if (named !== undefined) {
        if (!isIdentityId(named)) throw new AuthenticationError('malformed', `${header} must be an identity id`);
        return { subject: named, claims: {} };
      }
      throw new AuthenticationError('missing', `a bearer token (or, in dev mode, the ${header} header) is required`);
    }
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AuthenticationError('missing', 'an Authorization: Bearer <token> header is required');
    return this.verifier.verify(match[1]);
  }
}
