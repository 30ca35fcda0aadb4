// Scenario 17: a mover. The identity source gives an employee a new manager; the approval service opens a
// micro-certification of what the employee still holds, for the new manager, each grant with its lineage (the request
// and its justification, who approved it, which policy bundle decided, and what the bundle running now decides for the
// same input). The shipped catalog/campaigns/mover.yaml.
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 200 };
const PROD = GROUP_ROLES['orders-prod-read'];

interface ItemView {
  readonly campaignId: string;
  readonly grantId: string;
  readonly beneficiaryId: string;
  readonly dueAt: string;
  readonly lineage: {
    readonly request?: { readonly requesterId?: string; readonly justification?: string };
    readonly approvals: readonly { readonly approverId: string; readonly decision: string }[];
    readonly policyDecision?: { readonly effect: string; readonly bundleDigest: string; readonly reasons: readonly string[] };
    readonly policyDecisionToday: { readonly status: string; readonly effect?: string; readonly bundleDigest?: string; readonly changed?: boolean };
    readonly grant?: { readonly activatedAt?: string };
  };
}

describe('scenario 17: a mover gets a micro-certification for their new manager, with the lineage of each grant', () => {
  // No scheduler or audit: nothing here waits for time or reads the audit.
  const scenario = new ScenarioHarness('mover', { services: ['intake', 'policy', 'approval', 'provisioning', 'connector-postgres'], groupRoles: [PROD] });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let employee: string;
  let oldManager: string;
  let newManager: string;

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
    employee = `e2e_mover_${platform.runId}`;
    oldManager = `e2e_oldmgr_${platform.runId}`;
    newManager = `e2e_newmgr_${platform.runId}`;
    await pg.createLogin(employee);
    await api.upsertHuman(oldManager);
    await api.upsertHuman(newManager);
    await api.upsertHuman(employee, oldManager, { department: 'orders' });
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'opens a review of the mover’s grants for the new manager, showing where each came from',
    async () => {
      await platform.withLogs(async () => {
        const employeeToken = await platform.tokens.mint(employee);
        const oldManagerToken = await platform.tokens.mint(oldManager);
        const newManagerToken = await platform.tokens.mint(newManager);
        const requestId = await api.submitOk(employeeToken, {
          subject: { id: employee, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'on call for the orders service this quarter',
          duration: 'P7D',
        });
        const taskId = await eventually(async () => {
          const answer = await api.approvalRequest(oldManagerToken, requestId);
          expect(answer.status).toBe(200);
          const task = (answer.body as ApprovalRequestView).tasks[0];
          expect(task).toBeDefined();
          return task!.taskId;
        }, WAIT);
        expect((await api.decide(oldManagerToken, taskId, 'approve', 'needed for the rota')).status).toBe(200);
        const grantId = (await eventually(api.requestInStatus(employeeToken, requestId, 'provisioned'), WAIT)).grants[0]!.grantId;
        expect(await pg.isMember(employee, PROD)).toBe(true);

        // The mover: a new manager and department from the identity source.
        await api.upsertHuman(employee, newManager, { department: 'payments' });

        const items = await eventually(async () => {
          const answer = await platform.call<{ items: ItemView[] }>('approval', 'GET', '/v1/certifications', { token: newManagerToken });
          expect(answer.status).toBe(200);
          expect(answer.body.items).toHaveLength(1);
          return answer.body.items;
        }, WAIT);
        const [item] = items;
        expect(item).toMatchObject({
          campaignId: expect.stringMatching(/^mover:/),
          grantId,
          beneficiaryId: employee,
          lineage: {
            request: { requesterId: employee, justification: 'on call for the orders service this quarter' },
            approvals: [{ approverId: oldManager, decision: 'approve' }],
            policyDecision: { effect: 'require_approval', bundleDigest: expect.stringMatching(/^[a-f0-9]{64}$/) },
            grant: { activatedAt: expect.any(String) },
          },
        });
        // A short deadline (the definition's P3D), not the quarterly run's.
        expect(Date.parse(item!.dueAt) - Date.now()).toBeLessThanOrEqual(3 * 86_400_000);
        // The old manager reviews nothing of it; the employee never reviews their own access.
        const oldManagersItems = await platform.call<{ items: ItemView[] }>('approval', 'GET', '/v1/certifications', { token: oldManagerToken });
        expect(oldManagersItems.body.items).toEqual([]);
        const self = await platform.call(
          'approval',
          'POST',
          `/v1/campaigns/${encodeURIComponent(item!.campaignId)}/items/${encodeURIComponent(`${item!.campaignId}/${grantId}`)}`,
          {
            token: employeeToken,
            body: { decision: 'certify' },
          },
        );
        expect(self.status).toBe(403);

        // Beside the verdict at grant time, what the bundle running now decides for the same input (the policy
        // service answers the campaign's start): the same bundle, so the same effect, unchanged.
        const today = await eventually(async () => {
          const answer = await platform.call<{ items: ItemView[] }>('approval', 'GET', '/v1/certifications', { token: newManagerToken });
          const verdict = answer.body.items[0]?.lineage.policyDecisionToday;
          expect(verdict?.status).toBe('evaluated');
          return verdict;
        }, WAIT);
        expect(today).toMatchObject({ effect: 'require_approval', changed: false, bundleDigest: item!.lineage.policyDecision?.bundleDigest });
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
