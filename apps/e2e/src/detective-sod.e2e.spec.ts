// Scenario 19: a toxic combination created behind Grantline's back. A developer is granted the staging orders role
// through Grantline; an administrator adds the production write role to the same login by hand in PostgreSQL.
// Reconciliation reports the hand-made membership as drift; the detective SoD scan, run on demand through the
// policy API, ties that drift to the developer and finds the combination the bundle forbids
// (`staging-and-prod-orders-write`), and `iga.policy.sod-violation-detected` on the log names both entitlements, the
// grant and the access no grant explains.
// The approval service answers the violation with a micro-certification of the grant involved (another part of
// issue 13, asserted in the second step).
import { PolicySodScanCompleted, PolicySodViolationDetected, TOPICS } from '@grantline/contracts';
import type { CampaignStartedData, DriftDetectedData, Envelope, SodScanCompletedData, SodViolationDetectedData } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 250 };
const STAGING = GROUP_ROLES['orders-staging-read'];
const PROD_WRITE = GROUP_ROLES['orders-prod-write'];
const COMBINATION = 'staging-and-prod-orders-write';

interface ScanAnswer {
  readonly scan: SodScanCompletedData;
  readonly violations: readonly SodViolationDetectedData[];
}

describe('scenario 19: detective SoD finds a toxic pair made by hand on the target', () => {
  // A short reconciliation period so the hand-made grant is seen in seconds; no scheduled scan (on demand only).
  const scenario = new ScenarioHarness('detectivesod', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-postgres'],
    groupRoles: [STAGING, PROD_WRITE],
    eventLog: true,
    env: { provisioning: { PROVISIONING_RECONCILE_EVERY: 'PT1S' }, policy: { SOD_SCAN_EVERY: 'off' } },
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let developer: string;
  let found: SodViolationDetectedData | undefined;

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    developer = `e2e_sod_${platform.runId}`;
    await pg.createLogin(developer);
    await api.upsertHuman(developer, `e2e_sod_manager_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'the scan on demand names the developer, both entitlements, the grant and the access without one; the log says the same',
    async () => {
      await platform.withLogs(async () => {
        const token = await platform.tokens.mint(developer);
        const requestId = await api.submitOk(token, {
          subject: { id: developer, kind: 'human' },
          entitlementIds: ['orders-staging-read'],
          justification: 'detective SoD scenario: the governed half',
          duration: 'PT1H',
        });
        const grantId = (await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT)).grants[0]!.grantId;

        // Nobody asked Grantline for this one.
        await pg.grantOutsideGrantline(PROD_WRITE, developer);
        await eventually(async () => {
          const drift = (await log.read([TOPICS.grants])).filter(
            (event) => event.type === 'iga.grant.drift-detected.v1' && (event.data as DriftDetectedData).targetAccount === developer,
          ) as Envelope<DriftDetectedData>[];
          expect(drift.map((event) => [event.data.kind, event.data.externalRef])).toContainEqual(['unexpected_in_target', PROD_WRITE]);
        }, WAIT);

        // A member may not run it; security may (the policy service may have to fold the drift first).
        expect((await platform.call('policy', 'POST', '/v1/sod/scans', { token })).status).toBe(403);
        const securityToken = await api.tokenOf('security');
        const answer = await eventually(async () => {
          const scan = await platform.call<ScanAnswer>('policy', 'POST', '/v1/sod/scans', { token: securityToken });
          expect(scan.status).toBe(200);
          expect(scan.body.violations.map((violation) => violation.identityId)).toContain(developer);
          return scan.body;
        }, WAIT);
        const violation = answer.violations.find((candidate) => candidate.identityId === developer)!;
        expect(violation).toMatchObject({
          combinationId: COMBINATION,
          sides: [['orders-staging-read'], ['orders-prod-write']],
          grantIds: [grantId],
          unmanagedEntitlementIds: ['orders-prod-write'],
          trigger: 'on_demand',
          scanId: answer.scan.scanId,
        });
        expect(answer.scan).toMatchObject({ trigger: 'on_demand', requestedBy: `e2e_security_${platform.runId}` });

        // The facts are on the decisions topic, written by the policy service: the violation and the scan's evidence.
        const decisions = await eventually(async () => {
          const events = (await log.read([TOPICS.decisions])).filter((event) => (event.data as { scanId?: string }).scanId === answer.scan.scanId);
          expect(events.map((event) => event.type).sort()).toEqual(
            [PolicySodScanCompleted.type, ...answer.violations.map(() => PolicySodViolationDetected.type)].sort(),
          );
          return events;
        }, WAIT);
        const onTheLog = decisions.find((event) => event.type === PolicySodViolationDetected.type && event.subject === developer)!;
        expect(onTheLog.data).toEqual(violation);
        expect(onTheLog.actor).toEqual({ kind: 'service', id: 'policy' });
        found = violation;
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'the violation opens a review: a micro-certification of the granted half, triggered by the violation',
    async () => {
      await platform.withLogs(async () => {
        if (found === undefined) throw new Error('no violation from the previous step');
        const violation = found;
        const started = await eventually(async () => {
          const campaigns = (await log.read([TOPICS.approvals]))
            .filter((event) => event.type === 'iga.approval.campaign-started.v1')
            .map((event) => event.data as CampaignStartedData)
            .filter((campaign) => campaign.trigger === 'sod_violation' && campaign.items.some((item) => item.beneficiaryId === developer));
          expect(campaigns).toHaveLength(1);
          return campaigns[0]!;
        }, WAIT);
        expect(started.items.map((item) => item.grantId)).toEqual(violation.grantIds);
        expect(started.items[0]!.reviewerIds).not.toContain(developer);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
