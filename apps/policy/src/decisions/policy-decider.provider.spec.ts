import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { ServiceMetrics } from '@grantline/service-kit';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { countedPolicyDecider, policyDeciderFor } from './policy-decider.provider';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));

describe('the counted policy decider', () => {
  it('counts every decision it makes by effect, and decides exactly as the bare decider does', async () => {
    const metrics = new ServiceMetrics('policy');
    const bare = policyDeciderFor(shipped, registry);
    const counted = countedPolicyDecider(bare, metrics);
    const known = foldEvents(bare, [...identityEvents(), catalogEvent()]);
    const requests = [requestEvent('req-orders'), requestEvent('req-unknown', { items: { entitlementIds: ['nope'] } })];

    const decided = requests.flatMap((request) => counted.decide({ request, waitedOut: true }, known));

    expect(decided).toEqual(requests.flatMap((request) => bare.decide({ request, waitedOut: true }, known)));
    const text = await metrics.render();
    const effects = decided.map((decision) => decision.data.effect);
    for (const effect of new Set(effects)) {
      const count = effects.filter((candidate) => candidate === effect).length;
      expect(text).toContain(`grantline_policy_decisions_total{effect="${effect}",service="policy"} ${count}`);
    }
    expect(new Set(effects).size).toBe(2);
  });
});
