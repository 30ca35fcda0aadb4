import { Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerLimitDetail } from '@nestjs/throttler';
import { AuthenticationError, BEARER_AUTHENTICATOR, BearerAuthenticator, PROBLEMS, ProblemException } from '@grantline/http-edge';
import type { Principal, ProblemType } from '@grantline/http-edge';
import { RouteTable } from '../routing/route-table';
import type { Route } from '../routing/route-table';

/** What the edge learns about a request before it is forwarded. */
export interface EdgeRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
  /** The route the path matched. */
  gatewayRoute?: Route;
  /** Set once the token verified; the request log records its subject, the rate limit counts by it. */
  principal?: Principal;
  /** Why the token did not verify (answered 401 after the rate limit counted the caller's address). */
  authenticationFailure?: AuthenticationError;
}

interface ChallengeResponse {
  setHeader(name: string, value: string): void;
}

/** A read of a public route: no token needed at the edge. */
const isPublicRead = (request: EdgeRequest): boolean => request.gatewayRoute?.public === true && (request.method === 'GET' || request.method === 'HEAD');

export const GATEWAY_PROBLEMS = {
  tooManyRequests: { slug: 'too-many-requests', title: 'Too many requests', status: 429 },
  badGateway: { slug: 'bad-gateway', title: 'Bad gateway', status: 502 },
  upstreamUnavailable: { slug: 'upstream-unavailable', title: 'Service unavailable', status: 503 },
  upstreamTimeout: { slug: 'upstream-timeout', title: 'Gateway timeout', status: 504 },
} as const satisfies Record<string, ProblemType>;

/**
 * First at the edge: which service the path belongs to (none: 404 problem+json, nothing forwarded), then who is
 * calling. A public route (key material, discovery) needs no token; on every other one the token is verified with the
 * same verifier as the services'. A failure is remembered, not thrown, so the rate limit counts the caller's address
 * before the 401 (a client guessing tokens is limited like any other).
 */
@Injectable()
export class RouteAndTokenGuard implements CanActivate {
  constructor(
    @Inject(RouteTable) private readonly routes: RouteTable,
    @Inject(BEARER_AUTHENTICATOR) private readonly authenticator: BearerAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<EdgeRequest>();
    const url = request.originalUrl ?? request.url ?? '/';
    const route = this.routes.match(url);
    if (route === undefined) throw ProblemException.of(PROBLEMS.notFound, `No Grantline API is served at ${url.split('?')[0] ?? url}`);
    request.gatewayRoute = route;
    if (isPublicRead(request)) return true;
    try {
      request.principal = await this.authenticator.authenticate(request.headers);
    } catch (error) {
      request.authenticationFailure = error instanceof AuthenticationError ? error : new AuthenticationError('malformed', 'token could not be verified');
    }
    return true;
  }
}

/**
 * Requests per principal (per client address when there is none) in each window, from `@nestjs/throttler`; over the
 * limit: 429 problem+json with `Retry-After` (seconds), set by the throttler before it refuses.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const edge = request as unknown as EdgeRequest;
    if (edge.principal !== undefined) return `principal:${edge.principal.subject}`;
    return `address:${edge.ip ?? edge.socket?.remoteAddress ?? 'unknown'}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw ProblemException.of(
      GATEWAY_PROBLEMS.tooManyRequests,
      `More than ${detail.limit} requests in ${Math.round(detail.ttl / 1000)} s: retry after ${detail.timeToBlockExpire} s`,
    );
  }
}

/** Last at the edge: a route that needs a token and did not get a valid one is answered 401, as every service answers it. */
@Injectable()
export class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<EdgeRequest>();
    const failure = request.authenticationFailure;
    if (isPublicRead(request) || failure === undefined) return true;
    http.getResponse<ChallengeResponse>().setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${failure.message}"`);
    throw ProblemException.of(PROBLEMS.unauthenticated, failure.message, [{ field: 'Authorization', message: failure.reason }]);
  }
}
