// The approval service booted with the service kit (startService) against the real Kafka and MongoDB-wire
// store from jest's global setup. The service consumes the catalogue topics, so every identity and request
// here carries this spec's unique prefix, and the spec's own consumer group starts from the beginning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { ApprovalAccessDenied, ApprovalRequestApproved, ApprovalSelfApprovalBlocked, ApprovalTaskOpened, TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey, GrantlineRole } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { catalogEvent, deadlineFired, decided, human, identityUpserted, organisation, stage, submitted } from '../testing/approval-scenario';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const prefix = `${uniqueName('apr')}-`;
const id = (name: string): string => `${prefix}${name}`;
/** Short, so the spec can see a route proceed without the identity; long enough for one to arrive first. */
const DIRECTORY_WAIT_MS = 8_000;

const readApprovals = async (bus: KafkaMessageBus, requestId: string, topic: string = TOPICS.approvals): Promise<Envelope[]> => {
  const events: Envelope[] = [];
  await bus.replay({ topics: [topic], handler: async (event) => void (event.correlationid === requestId && events.push(event)) });
  return events;
};

/** Waits until the request's events on the topic include every one of `types`. */
const eventsOnceThere = (bus: KafkaMessageBus, requestId: string, types: readonly string[], topic: string = TOPICS.approvals): Promise<Envelope[]> =>
  eventually(
    async () => {
      const all = await readApprovals(bus, requestId, topic);
      const missing = types.filter((type) => !all.some((event) => event.type === type));
      if (missing.length > 0) throw new Error(`still missing ${missing.join(', ')}`);
      return all;
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );

describe('approval service against real Kafka', () => {
  let bus: KafkaMessageBus;
  let service: RunningService;
  let devKey: DevIssuerKey;
  const devIssuerDir = mkdtempSync(join(tmpdir(), 'approval-int-issuer-'));
  const ENV_KEYS = ['KAFKA_BROKERS', 'MONGO_URL', 'PORT', 'MONGO_DB', 'LOG_LEVEL', 'AUTH_MODE', 'DEV_ISSUER_DIR', 'APPROVAL_DIRECTORY_WAIT_MS'] as const;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

  /** A dev-issuer token, as `tools/dev-token` would mint it. */
  const bearer = async (subject: string, roles?: GrantlineRole[]): Promise<{ authorization: string }> => ({
    authorization: `Bearer ${await mintDevToken(devKey, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 300, ...(roles ? { roles } : {}) })}`,
  });
  /** Security may read every request: the specs below watch requests whose people the directory may not know yet. */
  const asSecurity = (): Promise<{ authorization: string }> => bearer(id('security-sam'), ['security']);

  const post = async (taskId: string, principal: string, body: unknown): Promise<Response> =>
    fetch(`${service.url}/v1/approvals/tasks/${encodeURIComponent(taskId)}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer(principal)) },
      body: JSON.stringify(body),
    });

  const requestView = async (requestId: string, headers: { authorization: string }): Promise<Response> =>
    fetch(`${service.url}/v1/approvals/requests/${encodeURIComponent(requestId)}`, { headers });

  /** The caller's own open tasks (approverId may only name the caller). */
  const tasksOf = async (approverId: string): Promise<{ taskId: string; requestId: string }[]> => {
    const response = await fetch(`${service.url}/v1/approvals/tasks?approverId=${encodeURIComponent(approverId)}`, { headers: await bearer(approverId) });
    return ((await response.json()) as { tasks: { taskId: string; requestId: string }[] }).tasks;
  };

  /** Waits until the service has consumed the request's decision and reports its route waiting for the directory. */
  const waitingForDirectory = (requestId: string): Promise<unknown[]> =>
    eventually(
      async () => {
        const response = await requestView(requestId, await asSecurity());
        const body = (await response.json()) as { status?: string; waitingForDirectory?: unknown[] };
        if (body.status !== 'pending' || body.waitingForDirectory === undefined) throw new Error(`not waiting yet: ${JSON.stringify(body)}`);
        return body.waitingForDirectory;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

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
    await bus.ensureTopics(
      [TOPICS.identities, TOPICS.catalog, TOPICS.requests, TOPICS.decisions, TOPICS.schedule, TOPICS.approvals].map((topic) => ({ topic })),
    );
    // Given the organisation and the catalogue are on the log before the service starts (rebuilt by replay)
    await bus.publisher.publish(TOPICS.identities, organisation(registry, prefix));
    await bus.publisher.publish(TOPICS.catalog, [catalogEvent(registry, prefix, Date.now())]);

    // A dev issuer key of this spec's own, as the intake would keep it
    devKey = await ensureDevIssuerKey(devIssuerDir);

    // The real AppModule, as main.ts boots it: it reads its configuration from the environment when imported
    Object.assign(process.env, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      MONGO_URL: mongoUrl,
      PORT: '0',
      MONGO_DB: uniqueName('approval_int'),
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devIssuerDir,
      APPROVAL_DIRECTORY_WAIT_MS: String(DIRECTORY_WAIT_MS),
    });
    const { AppModule } = (await import('../app.module')) as { AppModule: Type<unknown> };
    service = await startService(AppModule, { serviceName: 'approval', groupId: uniqueName('approval_int_group'), fromBeginning: true });
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.disconnect();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    rmSync(devIssuerDir, { recursive: true, force: true });
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
    const state = (await (await requestView(requestId, await bearer(id('alice')))).json()) as { status: string };
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

    // When bob approves over HTTP (alice trying again is refused the same way)
    expect((await post(taskId, id('alice'), { decision: 'approve' })).status).toBe(403);
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
      ApprovalSelfApprovalBlocked.type,
      'iga.approval.decision-recorded.v1',
      ApprovalRequestApproved.type,
    ]);
    expect(events[4]?.data).toMatchObject({
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

  it('break-glass: granted at once with the hard maximum, review opened (the notifier, not approval, asks for the notification)', async () => {
    const requestId = id('req-3');
    await bus.publisher.publish(TOPICS.requests, [
      submitted(requestId, { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-1' } }, duration: 'PT8H' }, registry, prefix),
    ]);
    await bus.publisher.publish(TOPICS.decisions, [
      decided(requestId, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }, registry),
    ]);
    const events = await eventsOnceThere(bus, requestId, ['iga.approval.break-glass-granted.v1', 'iga.approval.review-opened.v1']);
    const granted = events.find((event) => event.type === 'iga.approval.break-glass-granted.v1');
    expect(granted?.data).toMatchObject({ grants: [{ expiresAt: new Date(Date.parse(granted?.time ?? '') + 4 * 3_600_000).toISOString() }] });
    expect(events.find((event) => event.type === 'iga.approval.review-opened.v1')?.data).toMatchObject({ reviewerIds: [id('bob')] });
  });

  it('an approval_deadline timer on the schedule topic escalates the task to the security group', async () => {
    const requestId = id('req-4');
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, {}, registry, prefix)]);
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } }, registry)]);
    const taskId = await openTaskFor(id('bob'), requestId);
    await bus.publisher.publish(TOPICS.schedule, [deadlineFired(requestId, taskId, '2026-01-08T00:00:00.000Z', registry)]);
    const escalatedTask = await openTaskFor(id('sec-1'), requestId);
    expect(escalatedTask).toBe(`${taskId}:escalated`);
    const events = await eventsOnceThere(bus, requestId, ['iga.approval.escalated.v1']);
    expect(events.find((event) => event.type === 'iga.approval.escalated.v1')?.data).toMatchObject({ reason: 'deadline_passed', newTaskId: escalatedTask });
  });

  it('a decision consumed before the beneficiary identity waits for it, then opens the task for the manager', async () => {
    const requestId = id('req-5');
    const frank = id('frank');
    // frank (manager bob) is new: his request and its decision are on the log before his identity
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, { requesterId: frank, subject: { id: frank, kind: 'human' } }, registry, prefix)]);
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } }, registry)]);
    expect(await waitingForDirectory(requestId)).toEqual([{ kind: 'identity', identityId: frank, role: 'beneficiary' }]);
    expect(await readApprovals(bus, requestId)).toEqual([]);

    // When frank's identity is consumed
    await bus.publisher.publish(TOPICS.identities, [identityUpserted(human(frank, { managerId: id('bob') }), registry)]);

    // Then the task is bob's, not the security group's
    expect(await openTaskFor(id('bob'), requestId)).toBe(`${requestId}:manager`);
    expect((await tasksOf(id('sec-1'))).some((task) => task.requestId === requestId)).toBe(false);
    const [opened] = await eventsOnceThere(bus, requestId, [ApprovalTaskOpened.type]);
    expect(opened?.data).toMatchObject({ eligibleApproverIds: [id('bob')] });
  });

  it('an identity that never arrives: the route proceeds after the configured wait with what is known', async () => {
    const requestId = id('req-6');
    const ghost = id('ghost');
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, { requesterId: ghost, subject: { id: ghost, kind: 'human' } }, registry, prefix)]);
    const published = Date.now();
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } }, registry)]);
    await waitingForDirectory(requestId);

    // Then, nobody being known as ghost's manager, the security group stands in once the wait is over
    expect(await openTaskFor(id('sec-1'), requestId)).toBe(`${requestId}:manager`);
    expect(Date.now() - published).toBeGreaterThanOrEqual(DIRECTORY_WAIT_MS);
    const [opened] = await eventsOnceThere(bus, requestId, [ApprovalTaskOpened.type]);
    // (the identities topic is shared: earlier runs' security members are in the group too)
    const eligible = (opened?.data as { eligibleApproverIds: string[] }).eligibleApproverIds;
    expect(eligible).toEqual(expect.arrayContaining([id('sec-1'), id('sec-2')]));
    expect(eligible).not.toContain(id('bob'));
  });
  it('refuses without a token (401), hides a request from an unrelated member (404) and records the refusal on iga.approvals.v1', async () => {
    const requestId = id('req-7');
    await bus.publisher.publish(TOPICS.requests, [submitted(requestId, {}, registry, prefix)]);
    await bus.publisher.publish(TOPICS.decisions, [decided(requestId, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } }, registry)]);
    const taskId = await openTaskFor(id('bob'), requestId);

    expect((await fetch(`${service.url}/v1/approvals/requests/${encodeURIComponent(requestId)}`)).status).toBe(401);
    expect((await fetch(`${service.url}/v1/approvals/tasks`)).status).toBe(401);
    const mallory = id('mallory');
    expect((await requestView(requestId, await bearer(mallory))).status).toBe(404);
    expect((await post(taskId, mallory, { decision: 'approve' })).status).toBe(404);
    const named = await fetch(`${service.url}/v1/approvals/tasks?approverId=${encodeURIComponent(id('bob'))}`, { headers: await bearer(mallory) });
    expect(named.status).toBe(403);

    // The refusals are keyed and correlated by the principal: read them back from the topic the service owns.
    const refusals = await eventually(
      async () => {
        const events = (await readApprovals(bus, mallory)).filter((event) => event.type === ApprovalAccessDenied.type);
        if (events.length < 3) throw new Error(`${events.length} refusal(s) of ${mallory} on the log so far`);
        return events;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(refusals.map((event) => event.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'approval', operation: 'GET /v1/approvals/requests/:requestId', objectRef: `request:${requestId}`, status: 404 }),
        expect.objectContaining({ operation: 'POST /v1/approvals/tasks/:taskId/decision', objectRef: `task:${taskId}`, status: 404 }),
        expect.objectContaining({ operation: 'GET /v1/approvals/tasks', status: 403 }),
      ]),
    );
    // Nothing about the request was written by the refused calls.
    expect((await readApprovals(bus, requestId)).map((event) => event.type)).toEqual([ApprovalTaskOpened.type]);
  });
});
