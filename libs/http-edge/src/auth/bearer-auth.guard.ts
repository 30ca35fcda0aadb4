import { Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUIRED_ROLES, requireAnyRole } from './authorization';
import type { GrantlineRole } from './roles';
import { PROBLEMS, ProblemException } from '../problem/problem-details';
import { BearerAuthenticator } from './bearer-authenticator';
import type { RequestHeaders } from './bearer-authenticator';
import { AuthenticationError } from './jwt-verifier';
import type { Principal } from './jwt-verifier';

/** The BearerAuthenticator the guard uses; each service provides it (see jwtVerifierFor). */
export const BEARER_AUTHENTICATOR = Symbol('BEARER_AUTHENTICATOR');

interface AuthenticatedRequest {
  readonly headers: RequestHeaders;
  principal?: Principal;
}
interface ChallengeResponse {
  setHeader(name: string, value: string): void;
}

/**
 * Requires an authenticated caller; the principal is what `@CurrentPrincipal()` hands the handler. A failure is a
 * 401 problem+json naming the Authorization header, with a `WWW-Authenticate: Bearer` challenge (RFC 6750). Then,
 * when the route or its controller declares `@RequireRoles(...)`, the caller must hold one of them (a recorded 403).
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    @Inject(BEARER_AUTHENTICATOR) private readonly authenticator: BearerAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    try {
      request.principal = await this.authenticator.authenticate(request.headers);
    } catch (error) {
      const failure = error instanceof AuthenticationError ? error : new AuthenticationError('malformed', 'token could not be verified');
      http.getResponse<ChallengeResponse>().setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${failure.message}"`);
      throw ProblemException.of(PROBLEMS.unauthenticated, failure.message, [{ field: 'Authorization', message: failure.reason }]);
    }
    const roles = this.reflector.getAllAndOverride<GrantlineRole[] | undefined>(REQUIRED_ROLES, [context.getHandler(), context.getClass()]);
    if (roles !== undefined) requireAnyRole(request.principal, roles);
    return true;
  }
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without BearerAuthGuard');
  return principal;
});
