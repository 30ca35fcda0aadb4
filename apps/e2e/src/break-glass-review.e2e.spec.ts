// Scenario 18: break-glass is a closed loop. An on-call engineer breaks glass; when the access ends (its TTL), the
// connector rotates the login's password in PostgreSQL; a second break-glass is denied by policy until the first
// use's post-incident review is recorded (never by the engineer themselves); after the review it is allowed. The
// manager's inbox shows a normal approval task with its exact scope and the lineage of earlier uses.
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { PolicyDecisionRecorded, TOPICS } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantExplanation, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const ROLE = GROUP_ROLES['orders-prod-read'];

interface ReviewView {
  readonly reviewId: string;
  readonly status: string;
  readonly reviewerIds: string[];
  readonly completion?: { reviewerId: string; outcome: string };
}
interface TaskList {
  readonly tasks: { taskId: string; requestId: string; scope?: Record<string, unknown> }[];
}

describe('scenario 18: break-glass is reviewed before it can be used again, and what it used is rotated', () => {
  const scenario = new ScenarioHarness('bgreview', { groupRoles: [ROLE], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let admin: Client;
  let engineer: string;
  let lead: string;
  let token: string;
  let leadToken: string;
  let firstUse: string;

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    engineer = `e2e_bgr_oncall_${platform.runId}`;
    lead = `e2e_bgr_lead_${platform.runId}`;
    await pg.createLogin(engineer);
    admin = new Client({ connectionString: process.env['PG_URL'] });
    await admin.connect();
    token = await platform.tokens.mint(engineer);
    leadToken = await platform.tokens.mint(lead);
    await api.upsertHuman(lead);
    await api.upsertHuman(engineer, lead);
    await api.setAttributes('oncall-source', engineer, { onCall: true });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await admin?.end();
    await scenario.close();
  }, START_TIMEOUT_MS);

  /**
   * `duration`: the scheduler's test clock runs ahead once the first use's TTL was jumped past, so a later use asks
   * for the longest break-glass allows (PT4H) to stay live while the scenario looks at it.
   */
  const breakGlass = (n: number, duration = 'PT1H'): Promise<string> => {
    const incident = { system: 'jira', id: `INC-${platform.runId}-${n}` };
    return api.submitOk(token, {
      subject: { id: engineer, kind: 'human' },
      entitlementIds: ['orders-prod-read'],
      justification: `orders API incident ${n}: need to read the orders tables`,
      ticket: incident,
      duration,
      emergency: { breakGlass: true, incidentRef: incident },
    });
  };
  const passwordOf = async (login: string): Promise<string | null> =>
    (await admin.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [login])).rows[0]?.rolpassword ?? null;
  const review = (reviewId: string, as: string, body: unknown) =>
    platform.call<ReviewView>('approval', 'POST', `/v1/reviews/${encodeURIComponent(reviewId)}`, { token: as, body });

  it(
    'rotates the login password in PostgreSQL after the first use ends, and denies a second use until the review is recorded',
    async () => {
      await platform.withLogs(async () => {
        const known = `known-${platform.runId}`;
        await admin.query(`ALTER ROLE ${escapeIdentifier(engineer)} WITH PASSWORD ${escapeLiteral(known)}`);
        const before = await passwordOf(engineer);

        firstUse = await breakGlass(1);
        await eventually(async () => expect(await pg.isMember(engineer, ROLE)).toBe(true), WAIT);
        const grantId = (await eventually(api.requestInStatus(token, firstUse, 'provisioned'), WAIT)).grants[0]!.grantId;
        const active: GrantExplanation = await eventually(api.grantActivated(grantId), WAIT);
        await api.advanceSchedulerPast(new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? ''));
        await eventually(async () => expect(await pg.isMember(engineer, ROLE)).toBe(false), WAIT);

        // An event either way: the rotation asked for, then done; the password an attacker may have learnt is gone.
        await eventually(async () => {
          const types = (await log.read([TOPICS.grants]))
            .filter((event) => (event.data as { grantId?: string }).grantId === grantId)
            .map((event) => event.type);
          expect(types).toEqual(expect.arrayContaining(['iga.grant.revoked.v1', 'iga.grant.rotation-requested.v2', 'iga.grant.credential-rotated.v2']));
        }, WAIT);
        const after = await passwordOf(engineer);
        expect(after).toMatch(/^SCRAM-SHA-256\$/);
        expect(after).not.toBe(before);
        const oldLogin = new Client({
          connectionString: Object.assign(new URL(process.env['PG_URL'] ?? ''), { username: engineer, password: known }).toString(),
        });
        await expect(oldLogin.connect()).rejects.toThrow(/password authentication failed/);
        await oldLogin.end().catch(() => undefined);

        // The first use's review is open: a second break-glass is denied by policy, naming it.
        const reviewId = `${firstUse}:post-incident-review`;
        const second = await breakGlass(2);
        await eventually(async () => {
          const decision = (await log.read([TOPICS.decisions])).find(
            (event) => event.type === PolicyDecisionRecorded.type && (event.data as { requestId?: string }).requestId === second,
          );
          expect(decision?.data).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['break-glass-unreviewed-use']) });
          expect((decision?.data as { reasons: string[] }).reasons.join(' ')).toContain(reviewId);
          expect((await api.timeline(second)).body.status).toBe('denied');
        }, WAIT);
        expect(await pg.isMember(engineer, ROLE)).toBe(false);

        // The beneficiary may not review their own use; the manager (the named reviewer) records it, once.
        expect((await review(reviewId, token, { outcome: 'justified', findings: 'I was fixing it' })).status).toBe(403);
        const mine = await platform.call<{ reviews: ReviewView[] }>('approval', 'GET', '/v1/reviews', { token: leadToken });
        expect(mine.body.reviews.map((open) => open.reviewId)).toContain(reviewId);
        const done = await review(reviewId, leadToken, { outcome: 'justified', findings: 'read-only queries during the incident window' });
        expect(done.status).toBe(200);
        expect(done.body).toMatchObject({ status: 'completed', completion: { reviewerId: lead, outcome: 'justified' } });
        expect((await review(reviewId, leadToken, { outcome: 'unjustified', findings: 'second thoughts' })).status).toBe(409);

        // Reviewed: break-glass is allowed again.
        const third = await breakGlass(3, 'PT4H');
        await eventually(api.requestInStatus(token, third, 'provisioned'), WAIT);
        expect(await pg.isMember(engineer, ROLE)).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "shows the manager's inbox task with its exact scope and the lineage of earlier grants of the same entitlement",
    async () => {
      await platform.withLogs(async () => {
        const normal = await api.submitOk(token, {
          subject: { id: engineer, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'follow-up analysis of the incident, read only',
          ticket: { system: 'jira', id: `PRB-${platform.runId}` },
          duration: 'PT4H',
        });
        const task = await eventually(async () => {
          const inbox = await platform.call<TaskList>('approval', 'GET', '/v1/approvals/tasks', { token: leadToken });
          const found = inbox.body.tasks.find((candidate) => candidate.requestId === normal);
          expect(found).toBeDefined();
          return found!;
        }, WAIT);
        expect(task.scope).toMatchObject({
          subject: { id: engineer, kind: 'human' },
          entitlements: [{ entitlementId: 'orders-prod-read', environment: 'prod', privileges: expect.arrayContaining(['read']) }],
          duration: 'PT4H',
          justification: 'follow-up analysis of the incident, read only',
          ticket: { system: 'jira', id: `PRB-${platform.runId}` },
          breakGlass: false,
          risk: { score: expect.any(Number), factors: expect.any(Array) },
          sodConflicts: [],
        });
        const lineage = (task.scope?.['lineage'] ?? []) as { requestId: string; status: string; endedAt?: string }[];
        expect(lineage).toEqual(expect.arrayContaining([expect.objectContaining({ requestId: firstUse, status: 'break_glass', endedAt: expect.any(String) })]));
        expect(lineage.find((entry) => entry.status === 'denied')).toBeDefined();
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
