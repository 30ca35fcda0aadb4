// Scenario 6: an employee is offboarded, and every grant they hold is revoked in PostgreSQL: one auto-approved
// (non-production read) and one approved by their manager (production read), both active before the leaver event.
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const STAGING = GROUP_ROLES['orders-staging-read'];
const PROD = GROUP_ROLES['orders-prod-read'];

describe('scenario 6: offboarding an employee revokes every grant they hold in PostgreSQL', () => {
  // No scheduler: nothing here waits for time.
  const scenario = new ScenarioHarness('offboarding', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'audit', 'connector-postgres'],
    groupRoles: [STAGING, PROD],
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let employee: string;
  let manager: string;
  let employeeToken: string;
  let managerToken: string;
  let hrToken: string;
  const requestIds: string[] = [];

  const submit = async (entitlementId: string): Promise<string> => {
    return api.submitOk(employeeToken, {
      subject: { id: employee, kind: 'human' },
      entitlementIds: [entitlementId],
      justification: 'day-to-day work on the orders service',
      duration: 'P7D',
    });
  };

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
    employee = `e2e_emp_${platform.runId}`;
    manager = `e2e_mgr_${platform.runId}`;
    await pg.createLogin(employee);
    employeeToken = await platform.tokens.mint(employee);
    managerToken = await platform.tokens.mint(manager);
    hrToken = await api.tokenOf('identity-source');
    await api.upsertHuman(manager);
    await api.upsertHuman(employee, manager);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'gives the employee two active grants: one auto-approved, one approved by the manager',
    async () => {
      await platform.withLogs(async () => {
        // Right after the identity upserts: the approval service must resolve the manager even if it consumes the
        // decision before the identity events (another topic).
        requestIds.push(await submit('orders-staging-read'));
        const prodRequest = await submit('orders-prod-read');
        requestIds.push(prodRequest);

        const taskId = await eventually(async () => {
          const answer = await api.approvalRequest(managerToken, prodRequest);
          expect(answer.status).toBe(200);
          const view: ApprovalRequestView = answer.body;
          expect(view.tasks).toHaveLength(1);
          expect(view.tasks[0]).toMatchObject({ stageId: 'manager', eligibleApproverIds: [manager] });
          return view.tasks[0]!.taskId;
        }, WAIT);
        expect((await api.decide(managerToken, taskId, 'approve', 'part of the team')).status).toBe(200);

        await eventually(async () => expect(await pg.groupsOf(employee)).toEqual([PROD, STAGING].sort()), WAIT);
        for (const requestId of requestIds) {
          await eventually(api.requestInStatus(employeeToken, requestId, 'provisioned'), WAIT);
        }
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'revokes both in PostgreSQL once the employee is offboarded',
    async () => {
      await platform.withLogs(async () => {
        const started = performance.now();
        const offboarded = await platform.call('intake', 'POST', `/v1/identities/${employee}/offboard`, { token: hrToken, body: { reason: 'leaver' } });
        expect(offboarded.status).toBe(202);

        await eventually(async () => expect(await pg.groupsOf(employee)).toEqual([]), WAIT);
        process.stdout.write(`scenario 6: offboard request sent -> every membership gone in PostgreSQL: ${(performance.now() - started).toFixed(0)} ms\n`);

        for (const requestId of requestIds) {
          const view = await eventually(api.requestInStatus(employeeToken, requestId, 'revoked'), WAIT);
          const grantId = view.grants[0]!.grantId;
          await eventually(async () => {
            const explanation = await api.explain(grantId);
            expect(explanation.status).toBe(200);
            expect(explanation.body.ending?.reason).toBe('offboarding');
          }, WAIT);
        }
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
