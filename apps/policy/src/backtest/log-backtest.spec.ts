import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { InMemoryMessageBus } from '@grantline/messaging';
import type { ReplayOptions } from '@grantline/messaging';
import { DRAFT_LIMITS, EvaluationLimitExceeded, loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import type { Bundle, BundleFile } from '@grantline/policy-engine';
import { bundleLoadedEvent } from '../decisions/bundle-announcer';
import { policyDeciderFor } from '../decisions/policy-decider.provider';
import type { PolicyState } from '../domain';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { backtestLog } from './log-backtest';

const POLICIES = resolve(__dirname, '../../../../policies');
const shipped = loadBundleFromDirectory(POLICIES);
const withFile = (file: BundleFile): BundleFile[] => [...readBundleDirectory(POLICIES), file];
const freeze = (system: string): BundleFile => ({
  path: 'freeze.yaml',
  content: `kind: RuleSet\nrules:\n  - id: freeze\n    match: { systems: [${system}] }\n    effect: deny\n    reason: "${system} is frozen"\n`,
});

const state = foldEvents(policyDeciderFor(shipped, registry), [...identityEvents(), catalogEvent()]);

/** The decision the service records for a request, decided with what is known. */
const decideRequest = (request: Envelope<RequestSubmittedData>, known: PolicyState, bundle: Bundle, events: EventRegistry): Envelope<DecisionRecordedData> => {
  const [decision] = policyDeciderFor(bundle, events).decide({ request, waitedOut: true }, known);
  if (decision === undefined) throw new Error(`${request.data.requestId} was not decided`);
  return decision;
};

/** A log where the shipped bundle decided orders and wiki requests, and one request was refused. */
const recordedLog = async (...extra: Envelope[]): Promise<InMemoryMessageBus> => {
  const bus = new InMemoryMessageBus({ registry });
  bus.append(
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
    const bus = new InMemoryMessageBus({ registry });
    bus.append(decideRequest(requestEvent('req-wiki', { items: { entitlementIds: ['wiki-read'] } }), state, unannounced, registry));
    // When backtesting the shipped bundle
    const { report, history } = await backtestLog(bus, registry, shipped);
    // Then the recorded side comes from the record, and the change in effect is still seen
    expect(history).toMatchObject({ reproduced: 0, fromRecord: 1 });
    expect(report.counts.newly_auto_approved).toBe(1);
  });
  it('reports a complete backtest as complete', async () => {
    const { coverage } = await backtestLog(await recordedLog(), registry, shipped);
    expect(coverage).toEqual({ complete: true, compared: 3 });
  });

  it('streams: each latest decision is evaluated as it is read, not after the log was loaded', async () => {
    const bus = await recordedLog();
    const trail: string[] = [];
    const replay = bus.replay.bind(bus);
    bus.replay = (options: ReplayOptions) =>
      replay({
        ...options,
        handler: async (event, context) => {
          trail.push(`read ${event.type === 'iga.policy.decision-recorded.v2' ? 'decision' : 'other'}`);
          await options.handler(event, context);
        },
      });
    await backtestLog(bus, registry, shipped, { onProgress: (done) => trail.push(`evaluated ${done}`) });
    // The last pass: a read, then its evaluation, then the next read (the refusal is read and not evaluated).
    const lastPass = trail.slice(trail.lastIndexOf('read other') + 1).slice(-5);
    expect(lastPass).toEqual(['read decision', 'evaluated 1', 'read decision', 'evaluated 2', 'read decision']);
  });

  it('yields to the event loop while it evaluates, so live decisions interleave', async () => {
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns += 1;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    // Every replay of the in-memory log is pure microtasks: only the backtest's own yields let a turn through.
    await backtestLog(await recordedLog(), registry, shipped, { sliceMillis: 0 });
    running = false;
    expect(turns).toBeGreaterThanOrEqual(2);
  });

  it('indexes at most maxRequests requests and says the backtest is incomplete', async () => {
    const { report, history, coverage } = await backtestLog(await recordedLog(), registry, shipped, { maxRequests: 2 });
    expect(history).toMatchObject({ read: 3, requests: 2 });
    expect(report.total).toBe(2);
    expect(coverage).toEqual({ complete: false, stoppedBecause: 'max_requests', compared: 2 });
  });

  it('stops evaluating past maxMillis and says so', async () => {
    const { report, coverage } = await backtestLog(await recordedLog(), registry, shipped, { maxMillis: 0 });
    expect(report.total).toBe(1);
    expect(coverage).toEqual({ complete: false, stoppedBecause: 'time_limit', compared: 1 });
  });

  it('refuses a draft candidate over its evaluation budget as a whole, naming the rule', async () => {
    const list = `[${Array.from({ length: DRAFT_LIMITS.cel.maxListElements }, (_, i) => i).join(',')}]`;
    const bomb = `${list}.all(a, ${list}.all(b, a + b >= 0))`;
    const rules = ['bomb-1', 'bomb-2', 'bomb-3'].map((id) => `  - id: ${id}\n    when: '${bomb}'\n    effect: deny\n    reason: x\n`).join('');
    const draft = loadBundleFromFiles(withFile({ path: 'bomb.yaml', content: `kind: RuleSet\nrules:\n${rules}` }), { limits: DRAFT_LIMITS });
    const refused = backtestLog(await recordedLog(), registry, draft);
    await expect(refused).rejects.toBeInstanceOf(EvaluationLimitExceeded);
    await expect(refused).rejects.toThrow(/^rule "bomb-\d": evaluation exceeds the draft bundle limit/);
  });
});
