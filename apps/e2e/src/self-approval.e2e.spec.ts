// Scenario 3: the requester tries to approve their own request. The approval service answers 403, the attempt is
// an event the audit shows on the request's timeline, and the request stays pending (until the real approver acts).
import { TOPICS } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };

interface ApprovalTaskView {
  readonly taskId: string;
  readonly stageId: string;
  readonly status: string;
  readonly approvals: number;
  readonly eligibleApproverIds: readonly string[];
}

describe('scenario 3: a requester cannot approve their own request', () => {
  const scenario = new ScenarioHarness('selfapproval', { services: ['intake', 'policy', 'approval', 'audit'], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let log: EventLogReader;
  let requester: string;
  let manager: string;
  let requesterToken: string;
  let managerToken: string;
  let requestId: string;
  let task: ApprovalTaskView;

  const approvalView = async (): Promise<ApprovalRequestView & { tasks: readonly ApprovalTaskView[]; blockedAttempts: number }> => {
    const answer = await api.approvalRequest(requesterToken, requestId);
    expect(answer.status).toBe(200);
    return answer.body as ApprovalRequestView & { tasks: readonly ApprovalTaskView[]; blockedAttempts: number };
  };

  beforeAll(async () => {
    ({ platform, api, log } = await scenario.start());
    requester = `e2e_req_${platform.runId}`;
    manager = `e2e_mgr_${platform.runId}`;
    requesterToken = await platform.tokens.mint(requester);
    managerToken = await platform.tokens.mint(manager);
    await api.upsertHuman(manager);
    await api.upsertHuman(requester, manager);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'routes a production read to the manager: one open task, the request pending',
    async () => {
      await platform.withLogs(async () => {
        requestId = await api.submitOk(requesterToken, {
          subject: { id: requester, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'look into a production order mismatch',
          duration: 'PT8H',
        });

        const view = await eventually(async () => {
          const current = await approvalView();
          expect(current.tasks).toHaveLength(1);
          return current;
        }, WAIT);
        task = view.tasks[0]!;
        expect(task).toMatchObject({ taskId: `${requestId}:manager`, stageId: 'manager', status: 'open', eligibleApproverIds: [manager] });
        expect(view.status).toBe('pending');
        await eventually(api.requestInStatus(requesterToken, requestId, 'pending_approval'), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'answers 403 to the requester approving it, records the attempt, and leaves the request pending',
    async () => {
      await platform.withLogs(async () => {
        const attempt = await api.decide(requesterToken, task.taskId, 'approve', 'looks fine to me');
        expect(attempt.status).toBe(403);
        expect(attempt.contentType).toMatch(/^application\/problem\+json/);

        // The attempt is an event on the approvals topic, by the requester...
        const blocked = await eventually(async () => {
          const events = (await log.byActor(requester, [TOPICS.approvals])).filter((event) => event.type === 'iga.approval.self-approval-blocked.v1');
          expect(events).toHaveLength(1);
          return events[0]!;
        }, WAIT);
        expect(blocked.data).toMatchObject({ taskId: task.taskId, requestId, attemptedById: requester, relation: 'requester' });

        // ...that the audit shows on the request's timeline.
        await eventually(async () => {
          const timeline = await platform.call<{ entries: readonly { eventId: string; type: string }[] }>(
            'audit',
            'GET',
            `/v1/audit/requests/${requestId}/timeline`,
            { token: await api.tokenOf('auditor') },
          );
          expect(timeline.status).toBe(200);
          expect(timeline.body.entries).toEqual(
            expect.arrayContaining([expect.objectContaining({ eventId: blocked.id, type: 'iga.approval.self-approval-blocked.v1' })]),
          );
        }, WAIT);

        const after = await approvalView();
        expect(after).toMatchObject({ status: 'pending', blockedAttempts: 1 });
        expect(after.tasks[0]).toMatchObject({ taskId: task.taskId, status: 'open', approvals: 0 });
        expect((await api.request(requesterToken, requestId)).status).toBe('pending_approval');
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'is approved once the manager decides: the refusal was about who, not about the task',
    async () => {
      await platform.withLogs(async () => {
        const decision = await api.decide(managerToken, task.taskId, 'approve', 'needed for the incident follow-up');
        expect(decision.status).toBe(200);
        await eventually(async () => expect((await approvalView()).status).toBe('approved'), WAIT);
        // This platform runs no provisioning: the request ends at approved, nothing moves it on.
        await eventually(api.requestInStatus(requesterToken, requestId, 'approved'), WAIT);
        await eventually(async () => {
          const timeline = await platform.call<{ entries: readonly { type: string; actor: { id: string } }[] }>(
            'audit',
            'GET',
            `/v1/audit/requests/${requestId}/timeline`,
            { token: await api.tokenOf('auditor') },
          );
          expect(timeline.body.entries).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'iga.approval.request-approved.v1' })]));
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
