// The service layer without infrastructure: the real ApprovalsModule over an in-memory log, HTTP through
// supertest. Races are real concurrent calls; the in-memory publisher yields between calls like Kafka would.
import { Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  TOPICS,
  registry,
} from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData, RequestWithdrawnData, TimerFiredData } from '@grantline/contracts';
import { MessagingModule } from '@grantline/messaging-nest';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { InMemoryLogBus } from '../testing/in-memory-log.bus';
import { catalogEvent, deadlineFired, decided, organisation, stage, submitted, withdrawn } from '../testing/approval-scenario';
import { DEFAULT_DIRECTORY_WAIT_MS, devAuth } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalsModule } from './approvals.module';

const NOW = new Date('2026-01-05T12:00:00.000Z');
// The default directory wait: the organisation and catalogue are on the log before the service starts, so nothing waits.
const config: ApprovalConfig = { auth: devAuth('/nonexistent'), policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS };

const boot = async (bus: InMemoryLogBus): Promise<{ app: INestApplication; handler: ApprovalEventsHandler; state: ApprovalStateService }> => {
  // dev auth (the principal header) and a pinned clock
  @Module({ imports: [MessagingModule.forRoot({ clientId: 'approval-spec', bus }), ApprovalsModule.forRoot({ config, clock: () => NOW })] })
  class SpecModule {}
  const app = await NestFactory.create(SpecModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, handler: app.get(ApprovalEventsHandler), state: app.get(ApprovalStateService) };
};

describe('approvals module (in-memory log)', () => {
  let bus: InMemoryLogBus;
  let app: INestApplication;
  let handler: ApprovalEventsHandler;
  let state: ApprovalStateService;

  const decideOver = (taskId: string, principal: string | undefined, body: unknown = { decision: 'approve' }) => {
    const call = request(app.getHttpServer()).post(`/v1/approvals/tasks/${encodeURIComponent(taskId)}/decision`).send(body as object);
    return principal === undefined ? call : call.set('X-Grantline-Principal', principal);
  };

  /** Given the organisation and catalogue are known and a request was routed with these stages. */
  const routed = async (requestId: string, stages = [stage('security', [{ resolver: 'security' }])]): Promise<void> => {
    await handler.onRequestSubmitted(submitted(requestId) as Envelope<RequestSubmittedData>);
    await handler.onDecisionRecorded(decided(requestId, { route: { stages } }) as Envelope<DecisionRecordedData>);
  };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    bus = new InMemoryLogBus();
    // the directory is on the log before the service starts: rebuilt by replay
    for (const event of [...organisation(), catalogEvent()]) bus.log.push({ topic: registry.definitionOf(event.type).topic, event });
    ({ app, handler, state } = await boot(bus));
  });

  afterEach(async () => {
    await app.close();
  });

  it('routes a decision into a task listed for its approvers', async () => {
    await routed('req-a');
    expect(bus.events(ApprovalTaskOpened.type)).toHaveLength(1);
    const listed = await request(app.getHttpServer()).get('/v1/approvals/tasks').query({ approverId: 'sec-1' }).expect(200);
    expect(listed.body.tasks).toEqual([expect.objectContaining({ taskId: 'req-a:security', requestId: 'req-a', quorum: 1, approvals: 0, status: 'open' })]);
    await request(app.getHttpServer()).get('/v1/approvals/tasks').expect(400).expect('content-type', /application\/problem\+json/);
  });

  it('approves over HTTP as the principal and publishes request-approved', async () => {
    await routed('req-b');
    const response = await decideOver('req-b:security', 'sec-1', { decision: 'approve', comment: 'looks fine' }).expect(200);
    expect(response.body).toEqual({ taskId: 'req-b:security', requestId: 'req-b', decision: 'approve', recorded: true, requestStatus: 'approved' });
    expect(bus.events(ApprovalDecisionRecorded.type)[0]).toMatchObject({ actor: { kind: 'user', id: 'sec-1' }, data: { comment: 'looks fine' } });
    expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.log.find((entry) => entry.event.type === ApprovalRequestApproved.type)?.topic).toBe(TOPICS.approvals);
  });

  it('answers problems: 401 without a principal, 400 naming the bad field, 404 unknown task, 403 self-approval, 409 after the end', async () => {
    await routed('req-c');
    await decideOver('req-c:security', undefined).expect(401);
    const bad = await decideOver('req-c:security', 'sec-1', { decision: 'maybe' }).expect(400).expect('content-type', /application\/problem\+json/);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'decision' })]);
    await decideOver('req-c:security', 'sec-1', { decision: 'approve', extra: 1 }).expect(400);
    await decideOver('req-c:nope', 'sec-1').expect(404);

    const self = await decideOver('req-c:security', 'alice').expect(403);
    expect(self.body).toMatchObject({ status: 403, type: 'https://grantline.dev/problems/self_approval' });
    expect(bus.events(ApprovalSelfApprovalBlocked.type)).toEqual([expect.objectContaining({ data: expect.objectContaining({ attemptedById: 'alice', relation: 'requester' }) })]);
    await decideOver('req-c:security', 'erin').expect(403);
    const pending = await request(app.getHttpServer()).get('/v1/approvals/requests/req-c').expect(200);
    expect(pending.body).toMatchObject({ status: 'pending', blockedAttempts: 1 });

    await decideOver('req-c:security', 'sec-1', { decision: 'deny', comment: 'no ticket' }).expect(200);
    expect(bus.events(ApprovalRequestDenied.type)).toEqual([expect.objectContaining({ data: expect.objectContaining({ basis: 'approver', reasons: ['no ticket'] }) })]);
    await decideOver('req-c:security', 'sec-2').expect(409);
  });

  it('race: two approvals decided in the same tick on a quorum of one approve once', async () => {
    await routed('req-d0');
    const command = (approverId: string) => ({ kind: 'decide_task' as const, taskId: 'req-d0:security', approverId, decision: 'approve' as const, at: NOW.toISOString() });
    const results = await Promise.all([state.handle('req-d0', undefined, command('sec-1')), state.handle('req-d0', undefined, command('sec-2'))]);
    expect(results.map((result) => result.accepted).sort()).toEqual([false, true]);
    expect(results.find((result) => !result.accepted)).toMatchObject({ rejection: 'request_ended' });
    expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.events(ApprovalDecisionRecorded.type)).toHaveLength(1);
  });

  it('race: two approvals at once over HTTP on a quorum of one approve once', async () => {
    await routed('req-d');
    bus.latencyMs = 30;
    const [one, two] = await Promise.all([decideOver('req-d:security', 'sec-1'), decideOver('req-d:security', 'sec-2')]);
    expect([one.status, two.status].sort()).toEqual([200, 409]);
    expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.events(ApprovalDecisionRecorded.type)).toHaveLength(1);
  });

  it('race: the same approver twice at once is one vote', async () => {
    await routed('req-e', [stage('security', [{ resolver: 'security' }], 2)]);
    bus.latencyMs = 30;
    const answers = await Promise.all([decideOver('req-e:security', 'sec-1'), decideOver('req-e:security', 'sec-1')]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.map((answer) => answer.body.recorded as boolean).sort()).toEqual([false, true]);
    expect(bus.events(ApprovalDecisionRecorded.type)).toHaveLength(1);
    expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(0);
  });

  it.each([
    ['the approval first', true],
    ['the withdrawal first', false],
  ])('race: an approve racing a withdraw has one outcome (%s)', async (_name, approvalFirst) => {
    await routed('req-f');
    bus.latencyMs = 30;
    const approve = decideOver('req-f:security', 'sec-1');
    const withdraw = (): Promise<void> => handler.onRequestWithdrawn(withdrawn('req-f') as Envelope<RequestWithdrawnData>);
    const [answer] = approvalFirst ? await Promise.all([approve, withdraw()]) : await Promise.all([approve, withdraw()].reverse()).then((r) => [r[1], r[0]]);
    const status = (await request(app.getHttpServer()).get('/v1/approvals/requests/req-f').expect(200)).body.status as string;
    if (answer?.status === 200) {
      expect(status).toBe('approved');
      expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(1);
    } else {
      expect(answer?.status).toBe(409);
      expect(status).toBe('withdrawn');
      expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(0);
    }
  });

  it('a failed publish changes nothing; the retry records the same event ids', async () => {
    await routed('req-g');
    bus.failNextPublish = true;
    await decideOver('req-g:security', 'sec-1').expect(503);
    expect(bus.events(ApprovalDecisionRecorded.type)).toHaveLength(0);
    await decideOver('req-g:security', 'sec-1').expect(200);
    expect(bus.events(ApprovalRequestApproved.type)).toHaveLength(1);
  });

  it('rebuilds from the log at start: a redelivered decision routes nothing new, open tasks are still open', async () => {
    await routed('req-h');
    await app.close();
    const before = bus.log.length;
    ({ app, handler, state } = await boot(bus));
    await handler.onDecisionRecorded(decided('req-h') as Envelope<DecisionRecordedData>);
    const redelivered = bus.events().find((event) => event.type === ApprovalTaskOpened.type);
    expect(bus.log.length).toBe(before);
    expect(redelivered).toBeDefined();
    const listed = await request(app.getHttpServer()).get('/v1/approvals/tasks').query({ approverId: 'sec-2' }).expect(200);
    expect(listed.body.tasks.map((task: { taskId: string }) => task.taskId)).toContain('req-h:security');
  });

  it('escalates a task on its deadline timer, once, whatever the redeliveries', async () => {
    await routed('req-i', [stage('manager', [{ resolver: 'manager' }])]);
    const timer = deadlineFired('req-i', 'req-i:manager', '2026-01-08T00:00:00.000Z') as Envelope<TimerFiredData>;
    await handler.onTimerFired(timer);
    await handler.onTimerFired(timer);
    expect(bus.events('iga.approval.escalated.v1')).toHaveLength(1);
    const listed = await request(app.getHttpServer()).get('/v1/approvals/tasks').query({ approverId: 'sec-1' }).expect(200);
    expect(listed.body.tasks).toEqual([expect.objectContaining({ taskId: 'req-i:manager:escalated', escalatedFromTaskId: 'req-i:manager' })]);
  });

  it('takes the time of an HTTP decision from the injected clock', async () => {
    await routed('req-j');
    await decideOver('req-j:security', 'sec-1').expect(200);
    expect(bus.events(ApprovalDecisionRecorded.type)[0]?.time).toBe(NOW.toISOString());
    expect(bus.events(ApprovalRequestApproved.type)[0]?.data).toMatchObject({ grants: [{ expiresAt: '2026-01-05T20:00:00.000Z' }] });
  });
});
