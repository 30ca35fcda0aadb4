import { resolve } from 'node:path';
import { GrantDriftDetected, PolicySodScanCompleted, PolicySodViolationDetected, TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import type { MessageBus } from '@grantline/messaging';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import type { PolicyStateService } from '../decisions/policy-state.service';
import { FoldedPolicyState } from '../decisions/policy-state.service';
import { catalogEvent, grantEvents, identityEvents } from '../testing/policy-scenario.fixtures';
import { SCHEDULER_PRINCIPAL, SodScanService } from './sod-scan.service';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const NOW = '2025-06-02T12:00:00.000Z';

/** The service over a folded state holding Alice's maker grant and, found on the payments target by hand, the checker role. */
const serviceWith = (sodScanEveryMs?: number): { service: SodScanService; published: Envelope[][]; topics: string[] } => {
  const folded = new FoldedPolicyState();
  for (const event of [
    ...identityEvents(),
    catalogEvent(),
    ...grantEvents({ requestId: 'req-maker', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }),
  ]) {
    folded.apply(event);
  }
  folded.apply(
    registry.encode(
      GrantDriftDetected,
      {
        connectorId: 'payments',
        systemId: 'payments',
        kind: 'unexpected_in_target',
        targetAccount: 'alice',
        externalRef: 'payments_checker',
        detectedAt: NOW,
        remediation: 'report_only',
      },
      { id: 'drift-1', source: 'spec', time: NOW, subject: 'rpt-1', correlationid: 'rpt-1', actor: { kind: 'service', id: 'provisioning' } },
    ),
  );
  const state = { whenLoaded: async () => undefined, current: folded.current, sodFacts: folded.sod } as unknown as PolicyStateService;
  const published: Envelope[][] = [];
  const topics: string[] = [];
  const bus = {
    publisher: {
      publish: async (topic: string, events: Envelope[]) => {
        topics.push(topic);
        published.push(events);
      },
    },
  } as unknown as MessageBus;
  const config = { directoryWaitMs: 0, ...(sodScanEveryMs === undefined ? {} : { sodScanEveryMs }) };
  return { service: new SodScanService(shipped, bus, registry, config, state, fixedClock(NOW)), published, topics };
};

describe('the SoD scan service: on demand and on a schedule, published on the decisions topic', () => {
  afterEach(() => jest.useRealTimers());

  it('Given a toxic pair, When security scans on demand, Then the violation and the summary are published before the answer', async () => {
    const { service, published, topics } = serviceWith();

    const summary = await service.scan('on_demand', 'sec-sam');

    expect(topics).toEqual([TOPICS.decisions]);
    expect(published[0]!.map((event) => event.type)).toEqual([PolicySodViolationDetected.type, PolicySodScanCompleted.type]);
    expect(summary.scan).toMatchObject({ trigger: 'on_demand', requestedBy: 'sec-sam', violations: 1, startedAt: NOW, completedAt: NOW });
    expect(summary.violations).toEqual([
      expect.objectContaining({ identityId: 'alice', combinationId: 'payments-maker-checker', scanId: summary.scan.scanId }),
    ]);
    expect(published[0]![0]!.data).toEqual(summary.violations[0]);
  });

  it('Given SOD_SCAN_EVERY, When the period passes on the active instance, Then a scheduled scan runs as the service', async () => {
    jest.useFakeTimers();
    const { service, published } = serviceWith(60_000);
    service.onApplicationBootstrap();

    await jest.advanceTimersByTimeAsync(60_000);
    expect(published).toHaveLength(1);
    expect(published[0]!.at(-1)!.data).toMatchObject({ trigger: 'scheduled', requestedBy: SCHEDULER_PRINCIPAL });

    service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(published).toHaveLength(1);
  });

  it('Given SOD_SCAN_EVERY=off, When time passes, Then nothing is scanned but on demand', async () => {
    jest.useFakeTimers();
    const { service, published } = serviceWith();
    service.onApplicationBootstrap();

    await jest.advanceTimersByTimeAsync(24 * 3_600_000);

    expect(published).toEqual([]);
    service.onModuleDestroy();
  });

  it('Given two scans asked at once, When they run, Then one after the other, each with its own scan id and the same violation id', async () => {
    const { service, published } = serviceWith();

    const [first, second] = await Promise.all([service.scan('on_demand', 'sec-sam'), service.scan('scheduled', SCHEDULER_PRINCIPAL)]);

    expect(published).toHaveLength(2);
    expect(first.scan.scanId).not.toBe(second.scan.scanId);
    expect(first.violations[0]!.violationId).toBe(second.violations[0]!.violationId);
  });
});
