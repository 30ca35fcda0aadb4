// The service layer without infrastructure: the real ApprovalsModule over an in-memory log, HTTP through
// supertest. Races are real concurrent calls; the in-memory publisher yields between calls like Kafka would.
import { Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  ApprovalAccessDenied,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  TOPICS,
  registry,
} from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData, RequestWithdrawnData, TimerFiredData } from '@grantline/contracts';
import { CommandBus } from '@nestjs/cqrs';
import { fixedClock } from '@grantline/decider';
import { InMemoryMessageBus } from '@grantline/messaging';
import { MessagingModule } from '@grantline/messaging-nest';
import { eventually } from '@grantline/testing';
import { ApprovalRefused } from '../domain/approval.commands';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, deadlineFired, decided, organisation, stage, submitted, withdrawn } from '../testing/approval-scenario';
import { specAuth } from '../testing/spec-auth.fixture';
import type { SpecAuth } from '../testing/spec-auth.fixture';
import { DEFAULT_DIRECTORY_WAIT_MS } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { DecideTask } from './approval-commands';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalsModule } from './approvals.module';

const NOW = new Date('2026-01-05T12:00:00.000Z');
// The default directory wait: the organisation and catalogue are on the log before the service starts, so nothing waits.
const config: ApprovalConfig = { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS };

const boot = async (bus: InMemoryMessageBus, auth: SpecAuth): Promise<{ app: INestApplication; handler: ApprovalEventsHandler; commands: CommandBus }> => {
  // the kit's dev-mode bearer auth over the spec's issuer key, and a pinned clock
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'approval-spec', bus }), auth.module(), ApprovalsModule.forRoot({ config, clock: fixedClock(NOW) })],
  })
  class SpecModule {}
  const app = await NestFactory.create(SpecModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, handler: app.get(ApprovalEventsHandler), commands: app.get(CommandBus) };
};

describe('approvals module (in-memory log)', () => {
  let bus: InMemoryMessageBus;
  let app: INestApplication;
  let handler: ApprovalEventsHandler;
  let commands: CommandBus;
  let auth: SpecAuth;
  /**
   * Bearer tokens minted once, before any call: signing is asynchronous, and the races below must start their
   * calls together. Everyone is a person (member); auditor-anna and security-sam hold those roles, hr-feed is a workload.
   */
  const bearers = new Map<string, string>();
  const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'sec-1', 'sec-2', 'mallory'];
  const bearerOf = (principal: string): string => {
    const bearer = bearers.get(principal);
    if (bearer === undefined) throw new Error(`no token minted for ${principal}`);
    return bearer;
  };

  const decideOver = (taskId: string, principal: string | undefined, body: unknown = { decision: 'approve' }) => {
    const call = request(app.getHttpServer()).post(`/v1/approvals/tasks/${encodeURIComponent(taskId)}/decision`);
    return (principal === undefined ? call : call.set('Authorization', bearerOf(principal))).send(body as object);
  };
  const getAs = (path: string, principal: string | undefined) => {
    const call = request(app.getHttpServer()).get(path);
    return principal === undefined ? call : call.set('Authorization', bearerOf(principal));
  };

  /** Given the organisation and catalogue are known and a request was routed with these stages. */
  const routed = async (requestId: string, stages = [stage('security', [{ resolver: 'security' }])]): Promise<void> => {
    await handler.onRequestSubmitted(submitted(requestId) as Envelope<RequestSubmittedData>);
    await handler.onDecisionRecorded(decided(requestId, { route: { stages } }) as Envelope<DecisionRecordedData>);
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    auth = await specAuth();
    for (const person of PEOPLE) bearers.set(person, await auth.bearer(person));
    bearers.set('auditor-anna', await auth.bearer('auditor-anna', { roles: ['auditor'] }));
    bearers.set('security-sam', await auth.bearer('security-sam', { roles: ['security'] }));
    bearers.set('hr-feed', await auth.bearer('hr-feed', { roles: ['identity-source'], workload: true }));
  });

  afterAll(() => auth.dispose());

  beforeEach(async () => {
    bus = new InMemoryMessageBus({ registry });
    // the directory is on the log before the service starts: rebuilt by replay
    bus.append(...organisation(), catalogEvent());
    ({ app, handler, commands } = await boot(bus, auth));
  });

  afterEach(async () => {
    await app.close();
  });

  it('routes a decision into a task listed for its approvers', async () => {
    await routed('req-a');
    expect(bus.ofType(ApprovalTaskOpened.type)).toHaveLength(1);
    const listed = await getAs('/v1/approvals/tasks?approverId=sec-1', 'sec-1').expect(200);
    expect(listed.body.tasks).toEqual([expect.objectContaining({ taskId: 'req-a:security', requestId: 'req-a', quorum: 1, approvals: 0, status: 'open' })]);
    // approverId is optional: the list is always the caller's own
    expect((await getAs('/v1/approvals/tasks', 'sec-1').expect(200)).body).toEqual(listed.body);
    expect((await getAs('/v1/approvals/tasks', 'mallory').expect(200)).body).toEqual({ tasks: [] });
  });

  it('approves over HTTP as the principal and publishes request-approved', async () => {
    await routed('req-b');
    const response = await decideOver('req-b:security', 'sec-1', { decision: 'approve', comment: 'looks fine' }).expect(200);
    expect(response.body).toEqual({ taskId: 'req-b:security', requestId: 'req-b', decision: 'approve', recorded: true, requestStatus: 'approved' });
    expect(bus.ofType(ApprovalDecisionRecorded.type)[0]).toMatchObject({ actor: { kind: 'user', id: 'sec-1' }, data: { comment: 'looks fine' } });
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.events(TOPICS.approvals).filter((event) => event.type === ApprovalRequestApproved.type)).toHaveLength(1);
  });

  it('answers problems: 401 without a principal, 400 naming the bad field, 404 unknown task, 403 self-approval, 409 after the end', async () => {
    await routed('req-c');
    await decideOver('req-c:security', undefined).expect(401);
    const bad = await decideOver('req-c:security', 'sec-1', { decision: 'maybe' })
      .expect(400)
      .expect('content-type', /application\/problem\+json/);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'decision' })]);
    await decideOver('req-c:security', 'sec-1', { decision: 'approve', extra: 1 }).expect(400);
    await decideOver('req-c:nope', 'sec-1').expect(404);

    const self = await decideOver('req-c:security', 'alice').expect(403);
    expect(self.body).toMatchObject({ status: 403, type: 'https://grantline.dev/problems/self_approval' });
    expect(bus.ofType(ApprovalSelfApprovalBlocked.type)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ attemptedById: 'alice', relation: 'requester' }) }),
    ]);
    // bob (alice's manager) may see the request but is not eligible for the security task: a recorded 403
    const notEligible = await decideOver('req-c:security', 'bob').expect(403);
    expect(notEligible.body).toMatchObject({ status: 403, type: 'https://grantline.dev/problems/forbidden' });
    // erin, unrelated to the request, is told the task does not exist
    await decideOver('req-c:security', 'erin').expect(404);
    const pending = await getAs('/v1/approvals/requests/req-c', 'alice').expect(200);
    expect(pending.body).toMatchObject({ status: 'pending', blockedAttempts: 1 });

    await decideOver('req-c:security', 'sec-1', { decision: 'deny', comment: 'no ticket' }).expect(200);
    expect(bus.ofType(ApprovalRequestDenied.type)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ basis: 'approver', reasons: ['no ticket'] }) }),
    ]);
    await decideOver('req-c:security', 'sec-2').expect(409);
  });

  it('race: two approvals decided in the same tick on a quorum of one approve once', async () => {
    await routed('req-d0');
    // (the answer's time is the pinned clock's: NOW)
    const command = (approverId: string) => new DecideTask('req-d0', 'req-d0:security', approverId, 'approve');
    /** The command's outcome: accepted, or refused with the domain's rejection. */
    const outcome = (answer: Promise<unknown>) =>
      answer.then(
        () => ({ accepted: true }),
        (error: unknown) => {
          if (!(error instanceof ApprovalRefused)) throw error;
          return { accepted: false, rejection: error.rejection };
        },
      );
    const results = await Promise.all([outcome(commands.execute(command('sec-1'))), outcome(commands.execute(command('sec-2')))]);
    expect(results.map((result) => result.accepted).sort()).toEqual([false, true]);
    expect(results.find((result) => !result.accepted)).toMatchObject({ rejection: 'request_ended' });
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.ofType(ApprovalDecisionRecorded.type)).toHaveLength(1);
  });

  it('race: two approvals at once over HTTP on a quorum of one approve once', async () => {
    await routed('req-d');
    bus.latencyMs = 30;
    const [one, two] = await Promise.all([decideOver('req-d:security', 'sec-1'), decideOver('req-d:security', 'sec-2')]);
    expect([one.status, two.status].sort()).toEqual([200, 409]);
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(bus.ofType(ApprovalDecisionRecorded.type)).toHaveLength(1);
  });

  it('race: the same approver twice at once is one vote', async () => {
    await routed('req-e', [stage('security', [{ resolver: 'security' }], 2)]);
    bus.latencyMs = 30;
    const answers = await Promise.all([decideOver('req-e:security', 'sec-1'), decideOver('req-e:security', 'sec-1')]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.map((answer) => answer.body.recorded as boolean).sort()).toEqual([false, true]);
    expect(bus.ofType(ApprovalDecisionRecorded.type)).toHaveLength(1);
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(0);
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
    const status = (await getAs('/v1/approvals/requests/req-f', 'alice').expect(200)).body.status as string;
    if (answer?.status === 200) {
      expect(status).toBe('approved');
      expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
    } else {
      expect(answer?.status).toBe(409);
      expect(status).toBe('withdrawn');
      expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(0);
    }
  });

  it('a failed publish changes nothing; the retry records the same event ids', async () => {
    await routed('req-g');
    bus.failNextPublish();
    await decideOver('req-g:security', 'sec-1').expect(503);
    expect(bus.ofType(ApprovalDecisionRecorded.type)).toHaveLength(0);
    await decideOver('req-g:security', 'sec-1').expect(200);
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
  });

  it('rebuilds from the log at start: a redelivered decision routes nothing new, open tasks are still open', async () => {
    await routed('req-h');
    await app.close();
    const before = bus.size();
    ({ app, handler, commands } = await boot(bus, auth));
    await handler.onDecisionRecorded(decided('req-h') as Envelope<DecisionRecordedData>);
    const redelivered = bus.events().find((event) => event.type === ApprovalTaskOpened.type);
    expect(bus.size()).toBe(before);
    expect(redelivered).toBeDefined();
    const listed = await getAs('/v1/approvals/tasks?approverId=sec-2', 'sec-2').expect(200);
    expect(listed.body.tasks.map((task: { taskId: string }) => task.taskId)).toContain('req-h:security');
  });

  it('escalates a task on its deadline timer, once, whatever the redeliveries', async () => {
    await routed('req-i', [stage('manager', [{ resolver: 'manager' }])]);
    const timer = deadlineFired('req-i', 'req-i:manager', '2026-01-08T00:00:00.000Z') as Envelope<TimerFiredData>;
    await handler.onTimerFired(timer);
    await handler.onTimerFired(timer);
    expect(bus.ofType('iga.approval.escalated.v1')).toHaveLength(1);
    const listed = await getAs('/v1/approvals/tasks?approverId=sec-1', 'sec-1').expect(200);
    expect(listed.body.tasks).toEqual([expect.objectContaining({ taskId: 'req-i:manager:escalated', escalatedFromTaskId: 'req-i:manager' })]);
  });

  it('takes the time of an HTTP decision from the injected clock', async () => {
    await routed('req-j');
    await decideOver('req-j:security', 'sec-1').expect(200);
    expect(bus.ofType(ApprovalDecisionRecorded.type)[0]?.time).toBe(NOW.toISOString());
    expect(bus.ofType(ApprovalRequestApproved.type)[0]?.data).toMatchObject({ grants: [{ expiresAt: '2026-01-05T20:00:00.000Z' }] });
  });
  describe('authorization: every route authenticates, and answers only those the request concerns', () => {
    /** The refusals recorded on the approvals topic (in the background: the answer does not wait for the record). */
    const refusalsOf = (principalId: string, atLeast = 1): Promise<Envelope[]> =>
      eventually(() => {
        const found = bus.ofType(ApprovalAccessDenied.type).filter((event) => event.subject === principalId);
        if (found.length < atLeast) throw new Error(`${found.length} refusal(s) of ${principalId} recorded so far`);
        return found;
      });

    it('answers 401 without a token or with a bad one, on every route', async () => {
      await routed('req-k');
      for (const path of ['/v1/approvals/tasks', '/v1/approvals/requests/req-k']) {
        await getAs(path, undefined)
          .expect(401)
          .expect('content-type', /application\/problem\+json/);
        await request(app.getHttpServer()).get(path).set('Authorization', 'Bearer not-a-token').expect(401);
        // the dev-mode header that once named the principal proves nothing
        await request(app.getHttpServer()).get(path).set('X-Grantline-Principal', 'sec-1').expect(401);
      }
      await decideOver('req-k:security', undefined).expect(401);
      expect(bus.ofType(ApprovalAccessDenied.type)).toEqual([]);
    });

    it("lists only the caller's tasks: approverId naming someone else is a recorded 403, a workload (no member role) a 403", async () => {
      await routed('req-l');
      const named = await getAs('/v1/approvals/tasks?approverId=sec-1', 'mallory').expect(403);
      expect(named.body).toMatchObject({ status: 403, type: 'https://grantline.dev/problems/forbidden' });
      // refused before the query is validated: a malformed id answers the same
      await getAs('/v1/approvals/tasks?approverId=not%20an%20id', 'mallory').expect(403);
      await getAs('/v1/approvals/tasks', 'hr-feed').expect(403);
      const [recorded] = await refusalsOf('mallory');
      expect(recorded).toMatchObject({
        type: 'iga.approval.access-denied.v1',
        source: 'grantline/approval',
        actor: { kind: 'user', id: 'mallory' },
        data: {
          service: 'approval',
          operation: 'GET /v1/approvals/tasks',
          objectRef: 'identity:sec-1',
          status: 403,
          principalKind: 'person',
          roles: ['member'],
        },
      });
      expect((await refusalsOf('hr-feed'))[0]?.data).toMatchObject({ principalKind: 'workload', status: 403, reason: 'requires the member role' });
    });

    it('shows a request to the people it concerns, security and auditors; anyone else gets the unknown-request answer, recorded', async () => {
      await routed('req-m');
      // alice asked (and is the beneficiary), bob is her manager, sec-1 and sec-2 are the security task's approvers
      for (const viewer of ['alice', 'bob', 'sec-1', 'sec-2', 'auditor-anna', 'security-sam']) {
        expect((await getAs('/v1/approvals/requests/req-m', viewer).expect(200)).body).toMatchObject({ requestId: 'req-m', status: 'pending' });
      }
      const hidden = await getAs('/v1/approvals/requests/req-m', 'mallory').expect(404);
      const unknown = await getAs('/v1/approvals/requests/req-nope', 'mallory').expect(404);
      // Identical but for the id: nothing tells an existing request from one that never was.
      expect({ ...hidden.body, detail: hidden.body.detail.replace('req-m', 'ID') }).toEqual({
        ...unknown.body,
        detail: unknown.body.detail.replace('req-nope', 'ID'),
      });
      expect(hidden.headers['content-type']).toBe(unknown.headers['content-type']);
      // dave owns the entitlement but neither asked, benefits, manages nor approves: not a viewer here
      await getAs('/v1/approvals/requests/req-m', 'dave').expect(404);
      const recorded = await refusalsOf('mallory', 2);
      expect(recorded.map((event) => event.data)).toEqual(
        expect.arrayContaining([expect.objectContaining({ operation: 'GET /v1/approvals/requests/:requestId', objectRef: 'request:req-m', status: 404 })]),
      );
    });

    it('past approvers keep seeing the request: the manager task escalated to security still shows to the manager', async () => {
      await routed('req-n', [stage('manager', [{ resolver: 'manager' }])]);
      await handler.onTimerFired(deadlineFired('req-n', 'req-n:manager', '2026-01-08T00:00:00.000Z') as Envelope<TimerFiredData>);
      await getAs('/v1/approvals/requests/req-n', 'bob').expect(200);
      // bob is no longer eligible for the escalated task: he sees it, may not answer it
      await decideOver('req-n:manager:escalated', 'bob').expect(403);
      await decideOver('req-n:manager:escalated', 'sec-1').expect(200);
      await getAs('/v1/approvals/requests/req-n', 'sec-1').expect(200);
    });

    it('decides only as an eligible approver, refusing everyone else before the body is read', async () => {
      await routed('req-o');
      const invalid = { decision: 'maybe' };
      // unrelated: told the task does not exist, whatever the body
      const hidden = await decideOver('req-o:security', 'mallory', invalid).expect(404);
      const unknown = await decideOver('req-nope:security', 'mallory', invalid).expect(404);
      expect({ ...hidden.body, detail: hidden.body.detail.replace('req-o', 'ID') }).toEqual({
        ...unknown.body,
        detail: unknown.body.detail.replace('req-nope', 'ID'),
      });
      // may see it but not answer it: auditors, security outside the task, the manager: a recorded 403, not a 400
      for (const viewer of ['auditor-anna', 'security-sam', 'bob']) await decideOver('req-o:security', viewer, invalid).expect(403);
      // the requester: the self-approval 403, recorded as a blocked self-approval, again before the body
      const self = await decideOver('req-o:security', 'alice', invalid).expect(403);
      expect(self.body).toMatchObject({ type: 'https://grantline.dev/problems/self_approval' });
      expect(bus.ofType(ApprovalSelfApprovalBlocked.type).filter((event) => event.subject === 'req-o')).toHaveLength(1);
      // an eligible approver gets the 400 for that body, then decides
      await decideOver('req-o:security', 'sec-1', invalid).expect(400);
      await decideOver('req-o:security', 'sec-1').expect(200);
      expect(bus.ofType(ApprovalDecisionRecorded.type).filter((event) => event.subject === 'req-o')).toEqual([
        expect.objectContaining({ actor: { kind: 'user', id: 'sec-1' } }),
      ]);

      expect((await refusalsOf('mallory', 2)).map((event) => event.data)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ operation: 'POST /v1/approvals/tasks/:taskId/decision', objectRef: 'task:req-o:security', status: 404 }),
        ]),
      );
      expect((await refusalsOf('auditor-anna'))[0]?.data).toMatchObject({ objectRef: 'task:req-o:security', status: 403, roles: ['auditor', 'member'] });
      // the self-approval is recorded once, as the blocked self-approval it already was
      expect(bus.ofType(ApprovalAccessDenied.type).filter((event) => event.subject === 'alice')).toEqual([]);
    });
  });
});
