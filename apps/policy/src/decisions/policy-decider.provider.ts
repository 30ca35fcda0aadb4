import type { Provider } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { makePolicyDecider } from '../domain';
import type { PolicyDecider } from '../domain';
import { POLICY_BUNDLE } from './policy-bundle.provider';

export const POLICY_DECIDER = Symbol('POLICY_DECIDER');

/** The decider the service runs: with the bundle it loaded, and the ids a replay of the log derives again. */
export const policyDeciderFor = (bundle: Bundle, registry: EventRegistry): PolicyDecider =>
  makePolicyDecider({ bundle, registry, eventId: deterministicEventId });

export const policyDeciderProvider: Provider = { provide: POLICY_DECIDER, useFactory: policyDeciderFor, inject: [POLICY_BUNDLE, EVENT_REGISTRY] };
