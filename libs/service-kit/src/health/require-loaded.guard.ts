import { Inject, Injectable, mixin } from '@nestjs/common';
import type { CanActivate, InjectionToken, Type } from '@nestjs/common';
import { ProblemException } from '@grantline/http-edge';
import type { ProblemType } from '@grantline/http-edge';
import type { StateReadiness } from '@grantline/messaging';

/** A 503 problem: the service runs, but the state this route reads is not loaded yet (or its load keeps failing). */
export const STATE_NOT_LOADED: ProblemType = { slug: 'state-not-loaded', title: 'Service state not loaded', status: 503 };

/** The problem for a state that is not loaded: which one, and why, so an operator need not read the logs first. */
export function stateNotLoaded(state: StateReadiness): ProblemException {
  const why = state.lastError === undefined ? 'it is still loading' : `last error: ${state.lastError}`;
  return ProblemException.of(STATE_NOT_LOADED, `${state.name} is not loaded (${why}); try again later`);
}

/**
 * A guard for routes that answer from a state the service loads at start (`@UseGuards(BearerAuthGuard,
 * RequireLoaded(MyStateService))`): until that state is loaded the route answers 503 problem+json instead of
 * answering from an empty or partial state. `token` is the provider holding the state; it implements
 * StateReadiness (every ReplayedStateService does).
 */
export function RequireLoaded(token: InjectionToken): Type<CanActivate> {
  @Injectable()
  class RequireLoadedGuard implements CanActivate {
    constructor(@Inject(token) private readonly state: StateReadiness) {}

    canActivate(): boolean {
      if (!this.state.isReady()) throw stateNotLoaded(this.state);
      return true;
    }
  }
  return mixin(RequireLoadedGuard);
}
