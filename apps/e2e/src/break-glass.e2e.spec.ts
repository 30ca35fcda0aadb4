// Scenario 5: break-glass during an incident. An on-call engineer with an incident ticket gets production access
// at once (no approver in the loop), with a hard TTL (asking beyond it is refused, not granted as asked); a
// post-incident review is opened for their manager; the access is revoked in PostgreSQL when the TTL passes (the
// scheduler's test clock jumps past it).
import { NotificationRequested, TOPICS } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantExplanation, GrantlineClient, IntakeRequestView } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
const ROLE = GROUP_ROLES['orders-prod-read'];
const HOUR_MS = 3_600_000;

describe('scenario 5: break-glass access is immediate, reviewed afterwards and removed at its hard TTL', () => {
  const scenario = new ScenarioHarness('breakglass', { groupRoles: [ROLE], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let engineer: string;
  let lead: string;
  let token: string;
  let requestId: string;
  let grantId: string;

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    engineer = `e2e_oncall_${platform.runId}`;
    lead = `e2e_lead_${platform.runId}`;
    await pg.createLogin(engineer);
    token = await platform.tokens.mint(engineer);
    await api.upsertHuman(lead);
    await api.upsertHuman(engineer, lead);
    // On call is a fact of the on-call system, never of the engineer (or the HR feed).
    await api.setAttributes('oncall-source', engineer, { onCall: true });
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  const breakGlass = async (duration: string): Promise<string> => {
    const incident = { system: 'jira', id: `INC-${platform.runId}` };
    return api.submitOk(token, {
      subject: { id: engineer, kind: 'human' },
      entitlementIds: ['orders-prod-read'],
      justification: 'orders API is failing in production, need to read the orders tables',
      ticket: incident,
      duration,
      emergency: { breakGlass: true, incidentRef: incident },
    });
  };

  it(
    'refuses break-glass beyond its hard maximum, naming it, and grants nothing',
    async () => {
      await platform.withLogs(async () => {
        const tooLong = await breakGlass('PT12H');
        await eventually(async () => {
          const answer = await api.timeline(tooLong);
          expect(answer.body.status).toBe('denied');
          const decision = answer.body.entries.find((entry) => entry.type === 'iga.policy.decision-recorded.v2');
          expect((decision?.details['reasons'] as readonly string[]).join(' ')).toMatch(/PT12H exceeds the maximum PT4H/);
        }, WAIT);
        expect(await pg.isMember(engineer, ROLE)).toBe(false);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'grants production access at once, without an approver, and opens a post-incident review for the manager',
    async () => {
      await platform.withLogs(async () => {
        const submittedAt = performance.now();
        requestId = await breakGlass('PT2H');

        await eventually(async () => expect(await pg.isMember(engineer, ROLE)).toBe(true), WAIT);
        process.stdout.write(`scenario 5: break-glass submit -> provisioned in PostgreSQL: ${(performance.now() - submittedAt).toFixed(0)} ms\n`);
        const view: IntakeRequestView = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        grantId = view.grants[0]!.grantId;

        const approval = await api.approvalRequest(token, requestId);
        expect(approval.status).toBe(200);
        expect(approval.body.status).toBe('break_glass');
        expect(approval.body.tasks).toEqual([]);

        const review = await eventually(async () => {
          const events = (await log.read([TOPICS.approvals])).filter(
            (event) => event.type === 'iga.approval.review-opened.v1' && (event.data as { requestId?: string }).requestId === requestId,
          );
          expect(events).toHaveLength(1);
          return events[0]!;
        }, WAIT);
        expect(review.data).toMatchObject({ kind: 'break_glass_post_incident', reviewerIds: [lead], grantIds: [grantId] });

        // Someone hears of it at once: a break-glass notification names the request.
        await eventually(async () => {
          const notices = (await log.read([TOPICS.notifications])).filter(
            (event) => event.type === NotificationRequested.type && (event.data as { refs: { requestId?: string } }).refs.requestId === requestId,
          );
          expect(notices.map((event) => (event.data as { template: string }).template)).toContain('break_glass_granted');
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'is removed from PostgreSQL when its TTL passes, and explained as break-glass ended by its TTL',
    async () => {
      await platform.withLogs(async () => {
        const active: GrantExplanation = await eventually(api.grantActivated(grantId), WAIT);
        const expiresAt = new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? '');
        const createdAt = new Date(active.grant.createdAt ?? '');
        // Hard TTL: never more than the break-glass maximum (PT4H), whatever was asked.
        expect(expiresAt.getTime() - createdAt.getTime()).toBeLessThanOrEqual(4 * HOUR_MS);

        await api.advanceSchedulerPast(expiresAt);
        await eventually(async () => expect(await pg.isMember(engineer, ROLE)).toBe(false), WAIT);

        const ended = await eventually(api.grantEnded(grantId, 'break_glass_ttl'), WAIT);
        expect(ended).toMatchObject({
          outcome: { kind: 'break_glass' },
          decision: { effect: 'auto_approve', matchedRules: expect.arrayContaining(['break-glass-on-call']) },
        });
        expect(ended.missing).toEqual([]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
