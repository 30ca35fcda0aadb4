import type { Provider } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import { ServiceMetrics } from '@grantline/service-kit';
import type { Bundle } from '@grantline/policy-engine';
import { makePolicyDecider } from '../domain';
import type { PolicyDecider } from '../domain';
import { POLICY_BUNDLE } from './policy-bundle.provider';

export const POLICY_DECIDER = Symbol('POLICY_DECIDER');

/** The decider the service runs: with the bundle it loaded, and the ids a replay of the log derives again. */
export const policyDeciderFor = (bundle: Bundle, registry: EventRegistry): PolicyDecider =>
  makePolicyDecider({ bundle, registry, eventId: deterministicEventId });

/**
 * The service's decider, counted: `grantline_policy_decisions_total{effect}`, the decisions the engine made by
 * effect (auto_approve, require_approval, deny...). A decision made again (a publish that failed and was retried, a
 * redelivered request) counts again: a rate to watch (a jump in denials after a bundle change), not a ledger — the
 * decisions topic is that.
 */
export function countedPolicyDecider(decider: PolicyDecider, metrics: ServiceMetrics): PolicyDecider {
  metrics.registry.removeSingleMetric('grantline_policy_decisions_total');
  const decisions = new Counter({
    name: 'grantline_policy_decisions_total',
    help: 'Decisions the policy engine made, by effect (re-made decisions count again)',
    labelNames: ['effect'],
    registers: [metrics.registry],
  });
  return {
    ...decider,
    decide: (command, state) => {
      const recorded = decider.decide(command, state);
      for (const decision of recorded) decisions.inc({ effect: decision.data.effect });
      return recorded;
    },
  };
}

export const policyDeciderProvider: Provider = {
  provide: POLICY_DECIDER,
  useFactory: (bundle: Bundle, registry: EventRegistry, metrics: ServiceMetrics) => countedPolicyDecider(policyDeciderFor(bundle, registry), metrics),
  inject: [POLICY_BUNDLE, EVENT_REGISTRY, ServiceMetrics],
};
