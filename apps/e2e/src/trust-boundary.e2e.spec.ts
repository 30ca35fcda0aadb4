// Scenario 11: nobody gets around the workflow. The five ways a new user could, on a platform started like
// `npm start`, before authorization covered every action — each now answered 401/403/404, nothing written to the
// lifecycle topics, and every refusal of an authenticated caller visible in the audit:
//   1. mallory declares herself on call, then asks for break-glass production write access;
//   2. mallory offboards alice (whose grants would be revoked);
//   3. the audit, approval, policy and scheduler APIs read without a token;
//   4. maria's approval tasks listed with a header naming maria, or by mallory naming maria;
//   5. mallory makes herself her own approver (managerId), joins "security" (groups), revokes and reads alice's access.
import { TOPICS } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 200 };
/** What an attacker's call must not have written: the lifecycle, never the record of the attempt. */
const LIFECYCLE_TOPICS = [TOPICS.requests, TOPICS.identities, TOPICS.decisions, TOPICS.approvals, TOPICS.grants, TOPICS.schedule];
const isAccessDenied = (event: Envelope): boolean => event.type.endsWith('.access-denied.v1');

describe('scenario 11: nobody gets around the workflow', () => {
  const scenario = new ScenarioHarness('trustboundary', { groupRoles: [GROUP_ROLES['orders-staging-read'], GROUP_ROLES['orders-prod-write']], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let mallory: string;
  let alice: string;
  let maria: string;
  let malloryToken: string;
  let aliceToken: string;
  let aliceRequest: string;
  let aliceGrant: string;

  /** Every lifecycle event mallory caused (as actor), other than the record of her refused attempts. */
  const writtenByMallory = async (): Promise<Envelope[]> => (await log.byActor(mallory, LIFECYCLE_TOPICS)).filter((event) => !isAccessDenied(event));

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    mallory = `e2e_mallory_${platform.runId}`;
    alice = `e2e_alice_${platform.runId}`;
    maria = `e2e_maria_${platform.runId}`;
    for (const login of [mallory, alice]) await pg.createLogin(login);
    malloryToken = await platform.tokens.mint(mallory);
    aliceToken = await platform.tokens.mint(alice);
    await api.upsertHuman(maria);
    await api.upsertHuman(alice, maria);
    await api.upsertHuman(mallory, maria);
    // alice holds an active grant mallory will try to take away.
    aliceRequest = await api.submitOk(aliceToken, {
      subject: { id: alice, kind: 'human' },
      entitlementIds: ['orders-staging-read'],
      justification: 'investigate the staging checkout bug',
      duration: 'PT8H',
    });
    const provisioned = await eventually(api.requestInStatus(aliceToken, aliceRequest, 'provisioned'), WAIT);
    aliceGrant = provisioned.grants[0]!.grantId;
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    '1. mallory cannot declare herself on call; her break-glass request is denied and nothing is granted',
    async () => {
      await platform.withLogs(async () => {
        const asSelf = await platform.call('intake', 'PUT', `/v1/identities/${mallory}`, {
          token: malloryToken,
          body: { kind: 'human', displayName: 'Mallory', managerId: maria, attributes: { onCall: true } },
        });
        expect(asSelf.status).toBe(403);
        const patched = await platform.call('intake', 'PATCH', `/v1/identities/${mallory}/attributes`, {
          token: malloryToken,
          body: { attributes: { onCall: true } },
        });
        expect(patched.status).toBe(403);
        // Not even the identity source may set what the on-call system owns.
        const fromHr = await platform.call('intake', 'PATCH', `/v1/identities/${mallory}/attributes`, {
          token: await api.tokenOf('identity-source'),
          body: { attributes: { onCall: true } },
        });
        expect(fromHr.status).toBe(403);

        const incident = { system: 'jira', id: `INC-${platform.runId}` };
        const breakGlass = await api.submitOk(malloryToken, {
          subject: { id: mallory, kind: 'human' },
          entitlementIds: ['orders-prod-write'],
          justification: 'production is down, I need to write to the orders tables',
          ticket: incident,
          duration: 'PT1H',
          emergency: { breakGlass: true, incidentRef: incident },
        });
        const denied = await eventually(api.requestInStatus(malloryToken, breakGlass, 'denied'), WAIT);
        expect(denied.grants).toEqual([]);
        const decision = (await log.read([TOPICS.decisions])).find((event) => (event.data as { requestId?: string }).requestId === breakGlass);
        expect(decision?.data).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['break-glass-not-on-call']) });
        expect(await pg.isMember(mallory, GROUP_ROLES['orders-prod-write'])).toBe(false);
        // Her identity record was never touched by her: the only identity events about her are the identity source's.
        const identityEvents = (await log.read([TOPICS.identities])).filter((event) => event.subject === mallory);
        expect(identityEvents.every((event) => event.actor.id !== mallory)).toBe(true);
        expect(
          identityEvents.every(
            (event) => (event.data as { identity?: { attributes?: Record<string, unknown> } }).identity?.attributes?.['onCall'] === undefined,
          ),
        ).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '2. mallory cannot offboard alice: 403, alice keeps her access in PostgreSQL',
    async () => {
      await platform.withLogs(async () => {
        const offboard = await platform.call('intake', 'POST', `/v1/identities/${alice}/offboard`, { token: malloryToken, body: { reason: 'leaver' } });
        expect(offboard.status).toBe(403);
        expect((await log.read([TOPICS.identities])).filter((event) => event.type === 'iga.identity.offboarded.v1')).toEqual([]);
        expect(await pg.isMember(alice, GROUP_ROLES['orders-staging-read'])).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    '3. no API answers without a token',
    async () => {
      await platform.withLogs(async () => {
        const anonymous = [
          platform.call('audit', 'GET', `/v1/audit/grants?subjectId=${alice}`),
          platform.call('audit', 'GET', `/v1/audit/grants/${encodeURIComponent(aliceGrant)}/explain`),
          platform.call('audit', 'GET', `/v1/audit/requests/${aliceRequest}/timeline`),
          platform.call('audit', 'GET', '/v1/audit/drift?connectorId=postgres'),
          platform.call('approval', 'GET', '/v1/approvals/tasks'),
          platform.call('approval', 'GET', `/v1/approvals/requests/${aliceRequest}`),
          platform.call('policy', 'POST', '/v1/policy/simulate', { body: {} }),
          platform.call('policy', 'POST', '/v1/policy/backtest', { body: {} }),
          platform.call('scheduler', 'GET', '/v1/timers/status'),
          platform.call('intake', 'GET', `/v1/requests/${aliceRequest}`),
        ];
        expect((await Promise.all(anonymous)).map((answer) => answer.status)).toEqual(anonymous.map(() => 401));
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "4. maria's tasks are hers: a header naming her proves nothing, and mallory may not name her",
    async () => {
      await platform.withLogs(async () => {
        const byHeader = await platform.call('approval', 'GET', `/v1/approvals/tasks?approverId=${maria}`, { headers: { 'x-grantline-principal': maria } });
        expect(byHeader.status).toBe(401);
        const byMallory = await platform.call('approval', 'GET', `/v1/approvals/tasks?approverId=${maria}`, { token: malloryToken });
        expect(byMallory.status).toBe(403);
        const own = await platform.call<{ tasks: unknown[] }>('approval', 'GET', '/v1/approvals/tasks', { token: malloryToken });
        expect(own).toMatchObject({ status: 200, body: { tasks: [] } });
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "5. mallory cannot choose her approver, join security, revoke alice's grant or read alice's request",
    async () => {
      await platform.withLogs(async () => {
        const ownManager = await platform.call('intake', 'PUT', `/v1/identities/${mallory}`, {
          token: malloryToken,
          body: { kind: 'human', displayName: 'Mallory', managerId: mallory },
        });
        expect(ownManager.status).toBe(403);
        const security = await platform.call('intake', 'PUT', `/v1/identities/${mallory}`, {
          token: malloryToken,
          body: { kind: 'human', displayName: 'Mallory', attributes: { groups: 'security' } },
        });
        expect(security.status).toBe(403);
        const revoke = await platform.call('intake', 'POST', `/v1/grants/${encodeURIComponent(aliceGrant)}/revoke`, {
          token: malloryToken,
          body: { reason: 'because I can' },
        });
        expect(revoke.status).toBe(404);
        const read = await platform.call('intake', 'GET', `/v1/requests/${aliceRequest}`, { token: malloryToken });
        expect(read.status).toBe(404);
        // Told exactly what a request that does not exist is told.
        const ghost = await platform.call<{ detail: string }>('intake', 'GET', `/v1/requests/req-${platform.runId}-ghost`, { token: malloryToken });
        expect({ status: read.status, title: (read.body as { title?: string }).title }).toEqual({
          status: ghost.status,
          title: (ghost.body as { title?: string }).title,
        });
        const explain = await api.explain(aliceGrant, malloryToken);
        expect(explain.status).toBe(404);
        const others = await api.whoHasAccess({ subjectId: alice }, malloryToken);
        expect(others.status).toBe(403);
        expect(await pg.isMember(alice, GROUP_ROLES['orders-staging-read'])).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'wrote nothing for mallory but her break-glass request, and every refusal is in the audit',
    async () => {
      await platform.withLogs(async () => {
        // Her one legitimate act was asking (and being denied by policy); nothing else of hers is on the lifecycle.
        const written = await writtenByMallory();
        expect([...new Set(written.map((event) => event.type))]).toEqual(['iga.request.submitted.v2']);
        // Each service records its refusals on its own topic; the audit lists them once it has read each topic.
        await eventually(async () => {
          const answer = await api.accessDenials(mallory);
          expect(answer.status).toBe(200);
          expect(answer.body.denials).toEqual(
            expect.arrayContaining([
              expect.objectContaining({ service: 'intake', operation: 'POST /v1/identities/:id/offboard', objectRef: `id=${alice}`, status: 403 }),
              expect.objectContaining({ service: 'intake', operation: 'PUT /v1/identities/:id', status: 403 }),
              expect.objectContaining({ service: 'intake', operation: 'PATCH /v1/identities/:id/attributes', status: 403 }),
              expect.objectContaining({ service: 'intake', operation: 'POST /v1/grants/:id/revoke', objectRef: `grant:${aliceGrant}`, status: 404 }),
              expect.objectContaining({ service: 'intake', operation: 'GET /v1/requests/:id', objectRef: `request:${aliceRequest}`, status: 404 }),
              expect.objectContaining({ service: 'approval', operation: 'GET /v1/approvals/tasks', status: 403 }),
              expect.objectContaining({ service: 'audit', operation: 'GET /v1/audit/grants/:grantId/explain', status: 404 }),
              expect.objectContaining({ service: 'audit', operation: 'GET /v1/audit/grants', status: 403 }),
            ]),
          );
        }, WAIT);
        // A member cannot read the record of refusals (not even their own).
        const asMallory = await platform.call('audit', 'GET', `/v1/audit/access-denials?principalId=${mallory}`, { token: malloryToken });
        expect(asMallory.status).toBe(403);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
