// Scenario 10: access changed in PostgreSQL behind Grantline's back. An administrator grants the group role by
// hand to a login no request asked for, and removes a granted membership by hand. Reconciliation (provisioning
// asks the connector what the managed roles really hold) reports both as drift on the log and in the audit, for
// exactly those accounts, and changes nothing in PostgreSQL by itself (remediation is a person's decision).
import { NotificationRequested, TOPICS } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, NotificationRequestedData, ReconciliationCompletedData } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 200 };
const ROLE = GROUP_ROLES['orders-staging-read'];

describe('scenario 10: drift between the grants and PostgreSQL is found by reconciliation and reported, not hidden', () => {
  // A short period so the spec need not wait an hour; every platform also reconciles once at start.
  const scenario = new ScenarioHarness('drift', { groupRoles: [ROLE], eventLog: true, env: { provisioning: { PROVISIONING_RECONCILE_EVERY: 'PT1S' } } });
  let platform: Platform;
  let pg: PostgresTarget;
  let api: GrantlineClient;
  let log: EventLogReader;
  let developer: string;
  let outsider: string;
  let token: string;
  let requestId: string;
  let grantId: string;

  /** Drift findings about this scenario's own logins (the PostgreSQL target is shared with other runs). */
  const ownDrift = async (): Promise<Envelope<DriftDetectedData>[]> =>
    ((await log.read([TOPICS.grants])) as Envelope<DriftDetectedData>[]).filter(
      (event) => event.type === 'iga.grant.drift-detected.v1' && [developer, outsider].includes(event.data.targetAccount),
    );
  const completed = async (): Promise<ReconciliationCompletedData[]> =>
    (await log.read([TOPICS.grants]))
      .filter((event) => event.type === 'iga.grant.reconciliation-completed.v1')
      .map((event) => event.data as ReconciliationCompletedData);

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    process.stdout.write(`scenario 10: platform ready in ${platform.startupMs} ms (logs: ${platform.logDir})\n`);
    developer = `e2e_dev_${platform.runId}`;
    outsider = `e2e_outsider_${platform.runId}`;
    await pg.createLogin(developer);
    await pg.createLogin(outsider);
    token = await platform.tokens.mint(developer);
    await api.upsertHuman(developer, `e2e_manager_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'a governed grant in step with PostgreSQL is not drift',
    async () => {
      await platform.withLogs(async () => {
        requestId = await api.submitOk(token, {
          subject: { id: developer, kind: 'human' },
          entitlementIds: ['orders-staging-read'],
          justification: 'reconciliation scenario: a governed membership',
          duration: 'PT1H',
        });
        const view = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        grantId = view.grants[0]!.grantId;
        expect(await pg.isMember(developer, ROLE)).toBe(true);
        const activatedAt = Date.parse((await eventually(api.grantActivated(grantId), WAIT)).grant.activatedAt ?? '');

        // a reconciliation that observed the target after the activation, and found nothing about the developer
        await eventually(async () => expect((await completed()).some((summary) => Date.parse(summary.observedAt) > activatedAt)).toBe(true), WAIT);
        expect(await ownDrift()).toEqual([]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a membership granted by hand and one removed by hand are both reported, with the grant where there is one',
    async () => {
      await platform.withLogs(async () => {
        await pg.grantOutsideGrantline(ROLE, outsider);
        await pg.revokeOutsideGrantline(ROLE, developer);

        const findings = await eventually(async () => {
          const drift = await ownDrift();
          expect(new Set(drift.map((event) => event.data.kind))).toEqual(new Set(['unexpected_in_target', 'missing_in_target']));
          return drift;
        }, WAIT);
        const unexpected = findings.find((event) => event.data.kind === 'unexpected_in_target')!;
        expect(unexpected.data).toMatchObject({ connectorId: 'postgres', targetAccount: outsider, externalRef: ROLE, remediation: 'report_only' });
        expect(unexpected.data.grantId).toBeUndefined();
        const missing = findings.find((event) => event.data.kind === 'missing_in_target')!;
        expect(missing.data).toMatchObject({ grantId, targetAccount: developer, externalRef: ROLE, remediation: 'report_only' });
        expect(missing).toMatchObject({ correlationid: requestId, actor: { kind: 'service', id: 'provisioning' } });

        // The audit answers what drift is open now, as the latest completed reconciliation saw it.
        await eventually(async () => {
          const open = await api.drift('postgres');
          expect(open.status).toBe(200);
          expect(open.body.findingsPending).toBe(0);
          const own = open.body.findings.filter((finding) => [developer, outsider].includes(finding.targetAccount));
          expect(own).toEqual(
            expect.arrayContaining([
              expect.objectContaining({ kind: 'unexpected_in_target', targetAccount: outsider }),
              expect.objectContaining({ kind: 'missing_in_target', targetAccount: developer, grantId }),
            ]),
          );
          expect(own).toHaveLength(2);
        }, WAIT);
        // The finding about a grant is part of its request's story in the audit.
        await eventually(async () => {
          const timeline = await api.timeline(requestId);
          expect(timeline.status).toBe(200);
          expect(timeline.body.entries).toContainEqual(
            expect.objectContaining({
              type: 'iga.grant.drift-detected.v1',
              details: expect.objectContaining({ kind: 'missing_in_target', targetAccount: developer }),
            }),
          );
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'reconciliation changes nothing by itself: later runs still find both, and PostgreSQL is as the administrator left it',
    async () => {
      await platform.withLogs(async () => {
        const firstSeen = Math.max(...(await ownDrift()).map((event) => Date.parse(event.data.detectedAt)));
        await eventually(async () => {
          const laterDetections = (await ownDrift()).filter((event) => Date.parse(event.data.detectedAt) > firstSeen);
          expect(new Set(laterDetections.map((event) => event.data.kind))).toEqual(new Set(['unexpected_in_target', 'missing_in_target']));
        }, WAIT);
        expect(await pg.isMember(outsider, ROLE)).toBe(true);
        expect(await pg.isMember(developer, ROLE)).toBe(false);

        // People are told once per open drift, not once per run: security for the outsider, on-call for the loss.
        const alerts = await eventually(async () => {
          const own = ((await log.read([TOPICS.notifications])) as Envelope<NotificationRequestedData>[]).filter(
            (event) =>
              event.type === NotificationRequested.type &&
              event.data.template === 'access_drift_detected' &&
              [developer, outsider].includes(String(event.data.params['targetAccount'])),
          );
          expect(own).toHaveLength(2);
          return own;
        }, WAIT);
        expect(alerts.map((event) => [event.data.params['targetAccount'], event.data.params['kind'], event.data.audience]).sort()).toEqual(
          [
            [developer, 'missing_in_target', { groupId: expect.any(String) }],
            [outsider, 'unexpected_in_target', { groupId: expect.any(String) }],
          ].sort(),
        );
        const [toDeveloperLoss, toOutsider] = [developer, outsider].map((account) => alerts.find((event) => event.data.params['targetAccount'] === account)!);
        expect(toOutsider!.data.audience).not.toEqual(toDeveloperLoss!.data.audience);
        expect(toDeveloperLoss!.data.refs).toEqual({ grantId, requestId });
        // and the grant itself is still what the governed lifecycle made it
        expect((await eventually(api.grantActivated(grantId), WAIT)).grant.revokedAt).toBeUndefined();
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
