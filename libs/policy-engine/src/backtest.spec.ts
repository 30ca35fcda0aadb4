import { backtest, backtestAsync } from './backtest';
import type { HistoryEntry } from './backtest';
import { evaluate } from './evaluate';
import { renderBacktestReport, renderProgressBar } from './report-render';
import { entitlement, humanInput, inlineBundle } from './testing/policy-fixtures';

const current = inlineBundle(`
  - id: allow-all
    effect: auto_approve
    reason: everything is allowed today
  - id: mgr-medium
    match: { sensitivities: [medium] }
    effect: require_approval
    reason: manager approves medium
    stages: [{ name: manager, approvers: [manager] }]
`);
const candidate = inlineBundle(`
  - id: allow-all
    effect: auto_approve
    reason: everything is allowed today
    constraints: { maxDuration: P1D }
  - id: deny-prod
    match: { environments: [prod], sensitivities: [low] }
    effect: deny
    reason: no prod for low
  - id: mgr-medium
    match: { sensitivities: [medium] }
    effect: require_approval
    reason: manager and owner approve medium
    stages: [{ name: manager, approvers: [manager] }, { name: resource_owner, approvers: [resource_owner] }]
  - id: high-approval
    match: { sensitivities: [high] }
    effect: require_approval
    reason: high needs the owner
    stages: [{ name: resource_owner, approvers: [resource_owner] }]
`);

const history = (): HistoryEntry[] =>
  [
    humanInput({ request: { id: 'r-prod', duration: 'PT8H' }, entitlements: [entitlement({ environment: 'prod' })] }),
    humanInput({ request: { id: 'r-medium', duration: 'PT8H' }, entitlements: [entitlement({ sensitivity: 'medium' })] }),
    humanInput({ request: { id: 'r-high', duration: 'PT8H' }, entitlements: [entitlement({ sensitivity: 'high' })] }),
    humanInput({ request: { id: 'r-same', duration: 'PT8H' } }),
    humanInput({ request: { id: 'r-long', duration: 'PT2H' } }),
  ].map((input) => {
    const recorded = evaluate(current, input);
    return { requestId: recorded.requestId, input: recorded.provenance.input, recorded };
  });

describe('backtest', () => {
  it('Given recorded decisions and a candidate bundle, When backtested, Then each change is counted by kind with examples', () => {
    const progress: number[] = [];
    const report = backtest(history(), candidate, (done) => progress.push(done), { total: 5 });
    expect(report.total).toBe(5);
    expect(report.counts).toEqual({
      newly_denied: 1,
      newly_auto_approved: 0,
      newly_requires_approval: 1,
      route_changed: 1,
      constraints_changed: 2,
      unchanged: 0,
    });
    expect(report.examples.newly_denied[0]).toMatchObject({ requestId: 'r-prod', before: { effect: 'auto_approve' }, after: { effect: 'deny' } });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(report.recordedBundles).toEqual({ [current.digest]: 5 });
  });

  it('Given the same bundle as recorded, When backtested, Then nothing changes', () => {
    const report = backtest(history(), current);
    expect(report.counts.unchanged).toBe(5);
    expect(renderBacktestReport(report)).toContain('No decision would change (5 replayed).');
  });

  it('Given an async history, When backtested, Then the report equals the synchronous one', async () => {
    async function* source() {
      yield* history();
    }
    expect(await backtestAsync(source(), candidate)).toEqual(backtest(history(), candidate));
  });

  it('Given a report, When rendered, Then it shows an aligned table, a summary line and examples with reasons before and after', () => {
    const text = renderBacktestReport(backtest(history(), candidate));
    const lines = text.split('\n');
    const rows = lines.filter((l) => /^ {2}(newly|approval|constraints|unchanged)/.test(l));
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.length)).size).toBe(1); // aligned
    expect(text).toContain('5 of 5 decisions (100.0%) would change; 1 newly denied, 0 newly auto-approved.');
    expect(text).toContain('before: everything is allowed today');
    expect(text).toContain('after:  no prod for low');
    expect(text).toContain('route        manager  ⇒  manager → resource_owner');
    expect(text).not.toContain('\u001b[');
    expect(renderBacktestReport(backtest(history(), candidate), { color: true })).toContain('\u001b[31m');
  });

  it('Given progress with and without a known total, When rendered, Then the bar fills proportionally or shows a count', () => {
    const half = renderProgressBar({ done: 50, total: 100, elapsedMs: 1000 }, { width: 60 });
    expect(half).toContain(' 50% 50/100 · 50/s');
    const bar = half.split(' ')[0]!;
    const full = [...bar].filter((c) => c === '█').length;
    const empty = [...bar].filter((c) => c === '░').length;
    expect(full).toBeGreaterThan(0);
    expect(Math.abs(full - empty)).toBeLessThanOrEqual(1);
    expect(renderProgressBar({ done: 7, total: null, elapsedMs: 0 })).toBe('replaying 7 · 0/s');
  });
});
