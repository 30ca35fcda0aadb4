import {
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  ConnectorStateReported,
  GrantDriftDetected,
  GrantReconciliationCompleted,
  registry,
} from '@grantline/contracts';
import type {
  DeprovisionRequestedData,
  DriftDetectedData,
  Envelope,
  ProvisionRequestedData,
  ReconciliationCompletedData,
  StateReportedData,
} from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';
import type { ProvisioningState } from './provisioning.state';
import { StateReportAssembler, reconcile } from './reconciliation';
import type { StateReport } from './reconciliation';

const scenario = new ProvisioningScenario();
// every scenario event (activation, revocation) happens at 09:00
const AFTER = '2026-01-10T09:30:00.000Z';
const BEFORE = '2026-01-10T08:00:00.000Z';

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });

/** The log as the service leaves it (each input, then what was decided from it), and the state it folds into. */
class World {
  private readonly log: Envelope[] = [scenario.catalog(), scenario.identity()];

  get state(): ProvisioningState {
    return foldEvents(decider, this.log);
  }

  when(event: Envelope): readonly Envelope[] {
    this.log.push(event);
    const outputs = decider.decide(event, this.state);
    this.log.push(...outputs);
    return outputs;
  }

  /** A grant for `requestId`, taken as far as `until`. */
  grant(requestId: string, until: 'provisioning' | 'active' | 'deprovisioning' | 'revoked'): string {
    const command = this.when(scenario.approved(requestId)).find((e) => e.type === ConnectorProvisionRequested.type)!.data as ProvisionRequestedData;
    if (until === 'provisioning') return command.grantId;
    this.when(scenario.provisioned(command));
    if (until === 'active') return command.grantId;
    const removal = this.when(scenario.revocation({ grantId: command.grantId }, `revocation-${requestId}`));
    if (until === 'deprovisioning') return command.grantId;
    this.when(scenario.deprovisioned(removal.find((e) => e.type === ConnectorDeprovisionRequested.type)!.data as DeprovisionRequestedData));
    return command.grantId;
  }
}

const report = (observedAt: string, assignments: [string, string][], reportId = 'rpt-1'): StateReport => ({
  reportId,
  connectorId: 'postgres',
  observedAt,
  assignments: assignments.map(([targetAccount, entitlementRef]) => ({ targetAccount, entitlementRef })),
});

const lastPage = (reportId = 'rpt-1'): Envelope =>
  registry.encode(
    ConnectorStateReported,
    { connectorId: 'postgres', reportId, observedAt: AFTER, page: 1, lastPage: true, assignments: [] },
    { id: `page-${reportId}`, source: 'spec', time: AFTER, subject: reportId, correlationid: reportId, actor: { kind: 'service', id: 'connector-postgres' } },
  );

const run = (world: World, stateReport: StateReport): { drift: Envelope<DriftDetectedData>[]; summary: ReconciliationCompletedData } => {
  const events = reconcile(lastPage(stateReport.reportId), stateReport, world.state, { registry, eventId: specEventId });
  return {
    drift: events.filter((e) => e.type === GrantDriftDetected.type) as Envelope<DriftDetectedData>[],
    summary: events.find((e) => e.type === GrantReconciliationCompleted.type)!.data as ReconciliationCompletedData,
  };
};

const ROLE = scenario.groupRole;

describe('reconciliation', () => {
  it('an active grant whose membership is in the target is no drift, and counts as expected', () => {
    const world = new World();
    world.grant('req-1', 'active');

    const { drift, summary } = run(world, report(AFTER, [['ada', ROLE]]));

    expect(drift).toEqual([]);
    expect(summary).toEqual({
      reportId: 'rpt-1',
      connectorId: 'postgres',
      observedAt: AFTER,
      assignments: 1,
      grantsExpected: 1,
      drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
    });
  });

  it("an active grant whose membership is gone is missing_in_target, told in its request's story", () => {
    const world = new World();
    const grantId = world.grant('req-1', 'active');

    const { drift, summary } = run(world, report(AFTER, []));

    expect(drift.map((e) => e.data)).toEqual([
      {
        connectorId: 'postgres',
        systemId: 'sys-postgres',
        kind: 'missing_in_target',
        grantId,
        targetAccount: 'ada',
        externalRef: ROLE,
        detectedAt: AFTER,
        remediation: 'report_only',
      },
    ]);
    expect(drift[0]).toMatchObject({ subject: 'req-1', correlationid: 'req-1', time: AFTER });
    expect(summary.drift.missingInTarget).toBe(1);
  });

  it('a membership no grant explains is unexpected_in_target: access granted outside Grantline', () => {
    const world = new World();

    const { drift, summary } = run(world, report(AFTER, [['mallory', ROLE]]));

    expect(drift.map((e) => e.data)).toEqual([
      expect.objectContaining({ kind: 'unexpected_in_target', targetAccount: 'mallory', externalRef: ROLE, systemId: 'sys-postgres' }),
    ]);
    expect(drift[0]!.data.grantId).toBeUndefined();
    expect(drift[0]).toMatchObject({ subject: 'rpt-1', correlationid: 'rpt-1' });
    expect(summary).toMatchObject({ assignments: 1, grantsExpected: 0, drift: { unexpectedInTarget: 1 } });
  });

  it('a membership whose grant was revoked before the observation is expired_but_present, naming the grant', () => {
    const world = new World();
    const grantId = world.grant('req-1', 'revoked');

    const { drift } = run(world, report(AFTER, [['ada', ROLE]]));

    expect(drift.map((e) => e.data)).toEqual([expect.objectContaining({ kind: 'expired_but_present', grantId, targetAccount: 'ada' })]);
  });

  it('changes on either side of the observation are not drift: in flight, activated or revoked after it', () => {
    const worldWith = (until: 'provisioning' | 'active' | 'deprovisioning' | 'revoked'): World => {
      const world = new World();
      world.grant('req-1', until);
      return world;
    };
    for (const until of ['provisioning', 'deprovisioning'] as const) {
      expect(run(worldWith(until), report(AFTER, [['ada', ROLE]])).drift).toEqual([]);
      expect(run(worldWith(until), report(AFTER, [])).drift).toEqual([]);
    }
    // observed at 08:00, before the 09:00 activation or revocation: what 08:00 held is no drift
    expect(run(worldWith('active'), report(BEFORE, [])).drift).toEqual([]);
    expect(run(worldWith('revoked'), report(BEFORE, [['ada', ROLE]])).drift).toEqual([]);
  });

  it('the same report decided twice gives byte-identical events', () => {
    const world = new World();
    world.grant('req-1', 'active');
    const stateReport = report(AFTER, [['mallory', ROLE]]);

    expect(reconcile(lastPage(), stateReport, world.state, { registry, eventId: specEventId })).toEqual(
      reconcile(lastPage(), stateReport, world.state, { registry, eventId: specEventId }),
    );
  });
});

describe('StateReportAssembler', () => {
  const page = (n: number, last: boolean, accounts: string[], reportId = 'rpt-1'): StateReportedData => ({
    connectorId: 'postgres',
    reportId,
    observedAt: AFTER,
    page: n,
    lastPage: last,
    assignments: accounts.map((targetAccount) => ({ targetAccount, entitlementRef: ROLE })),
  });

  it('gives the report once every page up to the last is in, a repeated page counted once', () => {
    const assembler = new StateReportAssembler();
    expect(assembler.add(page(1, false, ['a', 'b']))).toBeUndefined();
    expect(assembler.add(page(1, false, ['a', 'b']))).toBeUndefined();
    expect(assembler.add(page(2, true, ['c']))).toEqual({
      reportId: 'rpt-1',
      connectorId: 'postgres',
      observedAt: AFTER,
      assignments: ['a', 'b', 'c'].map((targetAccount) => ({ targetAccount, entitlementRef: ROLE })),
    });
  });

  it('keeps reports apart and waits for a missing page', () => {
    const assembler = new StateReportAssembler();
    expect(assembler.add(page(2, true, ['c'], 'rpt-2'))).toBeUndefined();
    expect(assembler.add(page(1, true, ['x'], 'rpt-3'))).toMatchObject({ reportId: 'rpt-3' });
    expect(assembler.add(page(1, false, ['a'], 'rpt-2'))).toMatchObject({ reportId: 'rpt-2', assignments: [expect.anything(), expect.anything()] });
  });
});
