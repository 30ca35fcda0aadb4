// Scenario 2: a CI/CD pipeline's machine identity asks for the production deployment secrets (a high-sensitivity
// PostgreSQL role in the catalogue). More than 24 h is refused outright. Within 24 h, policy routes it to the
// entitlement's owner (high sensitivity), the pipeline's owner of record, then a security reviewer; all approve;
// it is provisioned in PostgreSQL and revoked at its expiry (test clock); the explanation names every approver.
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantExplanation, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const ROLE = GROUP_ROLES['deploy-secrets-prod'];
const DAY_MS = 24 * 60 * 60 * 1000;

describe('scenario 2: a CI/CD identity gets production secrets only with its owners and security, for at most 24 h', () => {
  const scenario = new ScenarioHarness('nhisecrets', { groupRoles: [ROLE] });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let pipeline: string;
  let owner: string;
  let reviewer: string;
  /** The catalogue's owner of the deploy-secrets-prod entitlement (catalog/entitlements.yaml). */
  const resourceOwner = 'sam';
  let resourceOwnerToken: string;
  let pipelineToken: string;
  let ownerToken: string;
  let reviewerToken: string;
  let requestId: string;
  let grantId: string;

  const openTask = async (token: string, stageId: string): Promise<string> =>
    eventually(async () => {
      const answer = await api.approvalRequest(token, requestId);
      expect(answer.status).toBe(200);
      const view: ApprovalRequestView = answer.body;
      const task = view.tasks.find((candidate) => candidate.stageId === stageId && candidate.status === 'open');
      expect(task).toBeDefined();
      return task!.taskId;
    }, WAIT);

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
    pipeline = `e2e_ci_${platform.runId}`;
    owner = `e2e_owner_${platform.runId}`;
    reviewer = `e2e_sec_${platform.runId}`;
    await pg.createLogin(pipeline);
    // The pipeline is a workload: a client-credentials token with no role; it may ask only for itself.
    pipelineToken = await platform.tokens.mint(pipeline, { workload: true });
    ownerToken = await platform.tokens.mint(owner);
    reviewerToken = await platform.tokens.mint(reviewer);
    resourceOwnerToken = await platform.tokens.mint(resourceOwner);
    await api.upsertHuman(resourceOwner);
    await api.upsertHuman(owner);
    // The security reviewer is in the approval service's security group through the identity's groups attribute.
    await api.upsertIdentity(reviewer, { kind: 'human', displayName: `E2E ${reviewer}`, attributes: { groups: 'security' } });
    await api.upsertIdentity(pipeline, {
      kind: 'ci_pipeline',
      displayName: `E2E release pipeline ${platform.runId}`,
      ownerId: owner,
      attributes: { repository: 'grantline/orders', scope: 'deploy-secrets-prod' },
    });
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  const ask = async (duration: string): Promise<string> => {
    // The pipeline asks for itself.
    return api.submitOk(pipelineToken, {
      subject: { id: pipeline, kind: 'ci_pipeline' },
      entitlementIds: ['deploy-secrets-prod'],
      justification: 'release 2026.11.24 rotates the payment gateway secret',
      ticket: { system: 'jira', id: `REL-${platform.runId}` },
      duration,
    });
  };

  it(
    'refuses more than 24 h outright, with the maximum in the reason',
    async () => {
      await platform.withLogs(async () => {
        const tooLong = await ask('PT36H');
        await eventually(async () => {
          const answer = await api.timeline(tooLong);
          expect(answer.status).toBe(200);
          expect(answer.body.status).toBe('denied');
          // The denial (approvals topic) may be projected before the decision (decisions topic): wait for both.
          const decision = answer.body.entries.find((entry) => entry.type === 'iga.policy.decision-recorded.v2');
          expect((decision?.details['reasons'] as readonly string[] | undefined)?.join(' ')).toMatch(/PT36H exceeds the maximum P1D/);
        }, WAIT);
        await eventually(api.requestInStatus(pipelineToken, tooLong, 'denied'), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'within 24 h, is routed to the resource owner, the owner of record, then security; nothing is granted before all approve',
    async () => {
      await platform.withLogs(async () => {
        requestId = await ask('PT24H');

        const resourceTask = await openTask(resourceOwnerToken, 'resource_owner');
        expect((await api.decide(resourceOwnerToken, resourceTask, 'approve', 'release secrets, as planned')).status).toBe(200);

        const ownerTask = await openTask(ownerToken, 'nhi_owner');
        // The pipeline cannot approve its own access (403); the reviewer is not asked yet: to them the task does not exist (404).
        expect((await api.decide(pipelineToken, ownerTask, 'approve')).status).toBe(403);
        expect((await api.decide(reviewerToken, ownerTask, 'approve')).status).toBe(404);
        expect((await api.decide(ownerToken, ownerTask, 'approve', 'release window agreed with the team')).status).toBe(200);
        expect(await pg.isMember(pipeline, ROLE)).toBe(false);

        const securityTask = await openTask(reviewerToken, 'security');
        expect(await pg.isMember(pipeline, ROLE)).toBe(false);
        expect((await api.decide(reviewerToken, securityTask, 'approve', 'ephemeral, scoped to the release')).status).toBe(200);

        await eventually(async () => expect(await pg.isMember(pipeline, ROLE)).toBe(true), WAIT);
        const view = await eventually(api.requestInStatus(pipelineToken, requestId, 'provisioned'), WAIT);
        grantId = view.grants[0]!.grantId;
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'lasts at most 24 h and is revoked in PostgreSQL at its expiry; the explanation names every approver',
    async () => {
      await platform.withLogs(async () => {
        const active: GrantExplanation = await eventually(api.grantActivated(grantId), WAIT);
        const expiresAt = new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? '');
        const createdAt = new Date(active.grant.createdAt ?? '');
        expect(expiresAt.getTime() - createdAt.getTime()).toBeLessThanOrEqual(DAY_MS);
        expect(expiresAt.getTime() - createdAt.getTime()).toBeGreaterThan(DAY_MS - 60 * 60 * 1000);

        await api.advanceSchedulerPast(expiresAt);
        await eventually(async () => expect(await pg.isMember(pipeline, ROLE)).toBe(false), WAIT);
        await eventually(api.requestInStatus(pipelineToken, requestId, 'revoked'), WAIT);

        const ended: GrantExplanation = await eventually(api.grantEnded(grantId, 'expiry'), WAIT);
        expect(ended).toMatchObject({
          request: { requesterId: pipeline, subject: { id: pipeline } },
          decision: { effect: 'require_approval', matchedRules: expect.arrayContaining(['nhi-privileged-prod']) },
          outcome: { kind: 'approved' },
          grant: { connectorId: 'postgres', targetAccount: pipeline },
          missing: [],
        });
        expect(ended.approvals.map((approval) => [approval.approverId, approval.decision])).toEqual([
          [resourceOwner, 'approve'],
          [owner, 'approve'],
          [reviewer, 'approve'],
        ]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
