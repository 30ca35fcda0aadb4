// The approval service booted with the service kit (startService) against the real Kafka and MongoDB-wire
// store from jest's global setup. The service consumes the catalogue topics, so every identity and request
// here carries this spec's unique prefix, and the spec's own consumer group starts from the beginning.
import { Module } from '@nestjs/common';
import { ApprovalRequestApproved, ApprovalSelfApprovalBlocked, ApprovalTaskOpened, TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { ServiceKitModule, topicsOwnedBy, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, decided, organisation, stage, submitted } from '../testing/approval-scenario';
import { devAuth } from './approval.config';
import { ApprovalsModule } from './approvals.module';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const prefix = `${uniqueName('apr')}-`;
const id = (name: string): string => `${prefix}${name}`;

const readApprovals = async (bus: KafkaMessageBus, requestId: string): Promise<Envelope[]> => {
  const events: Envelope[] = [];
  await bus.replay({ topics: [TOPICS.approvals], handler: async (event) => void (event.correlationid === requestId && events.push(event)) });
  return events;
};

describe('approval service against real Kafka', () => {
  let bus: KafkaMessageBus;
  let service: RunningService;

  const post = (taskId: string, principal: string, body: unknown): Promise<Response> =>
    fetch(`${service.url}/v1/approvals/tasks/${encodeURIComponent(taskId)}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-grantline-principal': principal },
      body: JSON.stringify(body),
    });

  const tasksOf = async (approverId: string): Promise<{ taskId: string; requestId: string }[]> => {
    const response = await fetch(`${service.url}/v1/approvals/tasks?approverId=${encodeURIComponent(approverId)}`);
    return ((await response.json()) as { tasks: { taskId: string; requestId: string }[] }).tasks;
  };

  const openTaskFor = (approverId: string, requestId: string): Promise<string> =>
    eventually(
      async () => {
        const task = (await tasksOf(approverId)).find((t) => t.requestId === requestId);
        if (!task) throw new Error(`no open task for ${approverId} on ${requestId} yet`);
        return task.taskId;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('approval-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    await bus.ensureTopics([TOPICS.identities, TOPICS.catalog, TOPICS.requests, TOPICS.decisions, TOPICS.schedule, TOPICS.approvals].map((topic) => ({ topic })));
    // Given the organisation and the catalogue are on the log before the service starts (rebuilt by replay)
    await bus.publisher.publish(TOPICS.identities, organisation(registry, prefix));
    await bus.publisher.publish(TOPICS.catalog, [catalogEvent(registry, prefix, Date.now())]);

    const env = { KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, PORT: '0', MONGO_DB: uniqueName('approval_int'), LOG_LEVEL: 'warn' };
    @Module({
      imports: [
        ServiceKitModule.forRoot({ serviceName: 'approval', env, topics: [...topicsOwnedBy('approval'), TOPICS.notifications] }),
        ApprovalsModule.forRoot({ config: { auth: devAuth(), policy: DEFAULT_APPROVAL_POLICY } }),
      ],
    })
    class SpecApprovalModule {}
    service = await startService(SpecApprovalModule, { serviceName: 'approval', groupId: uniqueName('approval_int_group'), fromBeginning: true });
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.disconnect();
  });

  it('opens the manager task, refuses the requester (403, recorded, still pending), approves for the manager', async () => {
    const requestId = id('req-1');
    // When a request and its decision (manager approval) are recorded
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, {}, registry, prefix)]);
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } }, registry)]);

    // Then a task is opened for alice's manager bob
    const taskId = await openTaskFor(id('bob'), requestId);
    expect(taskId).toBe(`${requestId}:manager`);

    // When alice (the requester) tries to approve her own request: 403, the attempt is on the log, still pending
    const self = await post(taskId, id('alice'), { decision: 'approve' });
    expect(self.status).toBe(403);
    expect(self.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const state = (await (await fetch(`${service.url}/v1/approvals/requests/${encodeURIComponent(requestId)}`)).json()) as { status: string };
    expect(state.status).toBe('pending');
    await eventually(
      async () => {
        const events = await readApprovals(bus, requestId);
        expect(events.filter((e) => e.type === ApprovalSelfApprovalBlocked.type)).toEqual([
          expect.objectContaining({ data: expect.objectContaining({ attemptedById: id('alice'), relation: 'requester' }) }),
        ]);
        expect(events.some((e) => e.type === ApprovalRequestApproved.type)).toBe(false);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    // When bob approves over HTTP
    const approved = await post(taskId, id('bob'), { decision: 'approve', comment: 'ok for the export bug' });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ requestStatus: 'approved', recorded: true });

    // Then request-approved is on iga.approvals.v1, once, with bob's approval as its basis
    const events = await eventually(
      async () => {
        const all = await readApprovals(bus, requestId);
        if (!all.some((e) => e.type === ApprovalRequestApproved.type)) throw new Error('not approved yet');
        return all;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(events.map((e) => e.type)).toEqual([
      ApprovalTaskOpened.type,
      ApprovalSelfApprovalBlocked.type,
      'iga.approval.decision-recorded.v1',
      ApprovalRequestApproved.type,
    ]);
    expect(events[3]?.data).toMatchObject({
      beneficiaryId: id('alice'),
      grants: [{ grantId: `${requestId}:orders-read` }],
      basis: { kind: 'approvals', approvals: [expect.objectContaining({ approverId: id('bob') })] },
    });
  });

  it('two approvers answering at once on a quorum of one approve the request once', async () => {
    const requestId = id('req-2');
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, {}, registry, prefix)]);
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('security', [{ resolver: 'security' }])] } }, registry)]);
    const taskId = await openTaskFor(id('sec-1'), requestId);

    const answers = await Promise.all([post(taskId, id('sec-1'), { decision: 'approve' }), post(taskId, id('sec-2'), { decision: 'approve' })]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const events = await eventually(
      async () => {
        const all = await readApprovals(bus, requestId);
        if (!all.some((e) => e.type === ApprovalRequestApproved.type)) throw new Error('not approved yet');
        return all;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(events.filter((e) => e.type === ApprovalRequestApproved.type)).toHaveLength(1);
    expect(events.filter((e) => e.type === 'iga.approval.decision-recorded.v1')).toHaveLength(1);
  });
});
