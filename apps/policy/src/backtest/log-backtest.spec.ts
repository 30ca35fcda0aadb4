import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import type { BundleFile } from '@grantline/policy-engine';
import { bundleLoadedEvent } from '../decisions/bundle-announcer';
import { decideRequest } from '../decisions/decide-request';
import { PolicyState } from '../decisions/policy-state';
import { InMemoryLogBus } from '../testing/in-memory-log.bus';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { backtestLog } from './log-backtest';

const POLICIES = resolve(__dirname, '../../../../policies');
const shipped = loadBundleFromDirectory(POLICIES);
const withFile = (file: BundleFile): BundleFile[] => [...readBundleDirectory(POLICIES), file];
const freeze = (system: string): BundleFile => ({
  path: 'freeze.yaml',
  content: `kind: RuleSet\nrules:\n  - id: freeze\n    match: { systems: [${system}] }\n    effect: deny\n    reason: "${system} is frozen"\n`,
});

const state = new PolicyState();
for (const event of [...identityEvents(), catalogEvent()]) state.apply(event);

/** A log where the shipped bundle decided orders and wiki requests, and one request was refused. */
const recordedLog = async (...extra: Envelope[]): Promise<InMemoryLogBus> => {
  const bus = new InMemoryLogBus(registry);
  await bus.append(
    bundleLoadedEvent(shipped, registry, '2025-06-01T00:00:00.000Z'),
    decideRequest(requestEvent('req-orders'), state, shipped, registry),
    decideRequest(requestEvent('req-wiki', { items: { entitlementIds: ['wiki-read'] } }), state, shipped, registry),
    decideRequest(requestEvent('req-unknown', { items: { entitlementIds: ['nope'] } }), state, shipped, registry),
    ...extra,
  );
  return bus;
};

describe('backtestLog: the decisions log through a candidate bundle', () => {
  it('reports no change when the candidate is the bundle that decided', async () => {
    const { report, history } = await backtestLog(await recordedLog(), registry, shipped);
    expect(history).toEqual({ read: 3, requests: 3, reproduced: 2, fromRecord: 0, refusals: 1, invalidSnapshots: 0 });
    expect(report.counts.unchanged).toBe(2);
    expect(report.total).toBe(2);
  });

  it('reports a request a stricter candidate would deny, with before and after', async () => {
    const progress: [number, number | null][] = [];
    const { report } = await backtestLog(await recordedLog(), registry, loadBundleFromFiles(withFile(freeze('orders-db'))), {
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(report.counts).toMatchObject({ newly_denied: 1, unchanged: 1 });
    expect(report.examples.newly_denied[0]).toMatchObject({ requestId: 'req-orders', before: { effect: 'require_approval' }, after: { effect: 'deny' } });
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it('compares a request decided twice by its latest decision only', async () => {
    const redecided = decideRequest(requestEvent('req-orders'), state, shipped, registry);
    const { history } = await backtestLog(await recordedLog(redecided), registry, shipped);
    expect(history).toMatchObject({ read: 4, requests: 3 });
  });

  it('falls back to the recorded fields when the deciding bundle is not on the log', async () => {
    // Given a decision by a bundle that was never announced
    const unannounced = loadBundleFromFiles(withFile(freeze('wiki')));
    const bus = new InMemoryLogBus(registry);
    await bus.append(decideRequest(requestEvent('req-wiki', { items: { entitlementIds: ['wiki-read'] } }), state, unannounced, registry));
    // When backtesting the shipped bundle
    const { report, history } = await backtestLog(bus, registry, shipped);
    // Then the recorded side comes from the record, and the change in effect is still seen
    expect(history).toMatchObject({ reproduced: 0, fromRecord: 1 });
    expect(report.counts.newly_auto_approved).toBe(1);
  });
});
