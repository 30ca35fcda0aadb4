// Scenario 15: a leaver's pending request. Their request waits for their manager; the identity source offboards them;
// the intake withdraws the request ("beneficiary offboarded (leaver)"), and the manager's approval that comes after is
// refused (409: the request was withdrawn, or its beneficiary has left, whichever approval folded first), so nothing
// is provisioned in PostgreSQL and the request ends `withdrawn` with the reason.
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const PROD = GROUP_ROLES['orders-prod-read'];

interface TimelineView {
  readonly status: string;
  readonly timeline: readonly { readonly type: string; readonly summary: string }[];
}

describe('scenario 15: a leaver\u2019s pending request is withdrawn, and approving it afterwards provisions nothing', () => {
  // No scheduler: nothing here waits for time.
  const scenario = new ScenarioHarness('leaverpending', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-postgres'],
    groupRoles: [PROD],
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'withdraws the request with the reason, refuses the manager\u2019s late approval and provisions nothing',
    async () => {
      await platform.withLogs(async () => {
        const employee = `e2e_leaver_${platform.runId}`;
        const manager = `e2e_lmgr_${platform.runId}`;
        await pg.createLogin(employee);
        const employeeToken = await platform.tokens.mint(employee);
        const managerToken = await platform.tokens.mint(manager);
        await api.upsertHuman(manager);
        await api.upsertHuman(employee, manager);

        // A production read needs the manager's approval: the request waits on their task.
        const requestId = await api.submitOk(employeeToken, {
          subject: { id: employee, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'month-end reconciliation of the orders ledger',
          duration: 'P3D',
        });
        const taskId = await eventually(async () => {
          const answer = await api.approvalRequest(managerToken, requestId);
          expect(answer.status).toBe(200);
          const view: ApprovalRequestView = answer.body;
          expect(view.tasks[0]).toMatchObject({ stageId: 'manager', status: 'open' });
          return view.tasks[0]!.taskId;
        }, WAIT);

        // The identity source says the employee has left.
        const hrToken = await api.tokenOf('identity-source');
        const offboarded = await platform.call('intake', 'POST', `/v1/identities/${employee}/offboard`, { token: hrToken, body: { reason: 'leaver' } });
        expect(offboarded.status).toBe(202);

        // The intake withdraws the pending request, saying why (GET /v1/requests/:id, as the manager may read it).
        const withdrawn = await eventually(async () => {
          const answer = await platform.call<TimelineView>('intake', 'GET', `/v1/requests/${requestId}`, { token: managerToken });
          expect(answer.status).toBe(200);
          expect(answer.body.status).toBe('withdrawn');
          return answer.body;
        }, WAIT);
        expect(withdrawn.timeline.find((entry) => entry.type === 'iga.request.withdrawn.v1')?.summary).toBe(
          'withdrawn by intake: beneficiary offboarded (leaver)',
        );

        // The manager's approval comes after: refused, nothing recorded.
        const late = await api.decide(managerToken, taskId, 'approve', 'approving before I read my mail');
        expect(late.status).toBe(409);
        expect(JSON.stringify(late.body)).toMatch(/withdrawn|has left \(offboarded\)/);

        // Approval's own view ends withdrawn with the task closed, and PostgreSQL never saw a grant.
        await eventually(async () => {
          const answer = await api.approvalRequest(managerToken, requestId);
          expect(answer.status).toBe(200);
          expect(answer.body.status).toBe('withdrawn');
          expect(answer.body.tasks.every((task) => task.status !== 'open' && task.status !== 'approved')).toBe(true);
        }, WAIT);
        expect(await pg.groupsOf(employee)).toEqual([]);
        const final = await api.request(managerToken, requestId);
        expect(final).toMatchObject({ status: 'withdrawn', grants: [] });
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
