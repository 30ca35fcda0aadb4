import { Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { ProblemException } from '../http/problem-details';
import { AuthenticationError, JwtVerifier } from './jwt-verifier';
import type { Principal } from './jwt-verifier';

export const JWT_VERIFIER = Symbol('JWT_VERIFIER');

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}
interface ChallengeResponse {
  setHeader(name: string, value: string): void;
}

/** Requires a valid bearer token; the verified principal is what `@CurrentPrincipal()` hands the handler. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(JWT_VERIFIER) private readonly verifier: JwtVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const value = Array.isArray(header) ? header[0] : header;
    const match = value === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
    try {
      if (!match?.[1]) throw new AuthenticationError('missing', 'an Authorization: Bearer <token> header is required');
      request.principal = await this.verifier.verify(match[1]);
      return true;
    } catch (error) {
      const failure = error instanceof AuthenticationError ? error : new AuthenticationError('malformed', 'token could not be verified');
      http.getResponse<ChallengeResponse>().setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${failure.message}"`);
      throw ProblemException.of('unauthenticated', failure.message, [{ field: 'Authorization', message: failure.reason }]);
    }
  }
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without BearerAuthGuard');
  return principal;
});
