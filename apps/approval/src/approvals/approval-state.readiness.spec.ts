// Fail closed at start: the real ApprovalsModule over an in-memory log whose replay is refused (a broker away) until
// the spec lets it through. Until then the state is not ready: the HTTP routes answer 503 problem+json naming it and
// the last error, and the handlers wait instead of routing from an empty state. Once a replay succeeds, both go on.
import { Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { ApprovalTaskOpened, registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData } from '@grantline/contracts';
import { InMemoryMessageBus } from '@grantline/messaging';
import type { ReplayOptions } from '@grantline/messaging';
import { fixedClock } from '@grantline/decider';
import { MessagingModule } from '@grantline/messaging-nest';
import { eventually } from '@grantline/testing';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, decided, organisation, stage, submitted } from '../testing/approval-scenario';
import { specAuth } from '../testing/spec-auth.fixture';
import type { SpecAuth } from '../testing/spec-auth.fixture';
import { DEFAULT_DIRECTORY_WAIT_MS } from './approval.config';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalsModule } from './approvals.module';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const SECURITY_ROUTE = { route: { stages: [stage('security', [{ resolver: 'security' }])] } };

/** The in-memory log, with the replay refused while `failing`. */
class FaultyLogBus extends InMemoryMessageBus {
  failing = false;
  replays = 0;

  override async replay(options: ReplayOptions): Promise<number> {
    this.replays += 1;
    if (this.failing) throw new Error('broker unavailable: replay refused');
    return super.replay(options);
  }
}

interface Booted {
  readonly app: INestApplication;
  readonly handler: ApprovalEventsHandler;
  readonly state: ApprovalStateService;
}

const boot = async (bus: InMemoryMessageBus, auth: SpecAuth): Promise<Booted> => {
  @Module({
    imports: [
      MessagingModule.forRoot({ clientId: 'approval-readiness-spec', bus }),
      auth.module(),
      ApprovalsModule.forRoot({ config: { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS }, clock: fixedClock(NOW) }),
    ],
  })
  class SpecModule {}
  const app = await NestFactory.create(SpecModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, handler: app.get(ApprovalEventsHandler), state: app.get(ApprovalStateService) };
};

describe('approval state that cannot be rebuilt at start', () => {
  let auth: SpecAuth;
  let security: string;
  let booted: Booted | undefined;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    auth = await specAuth();
    security = await auth.bearer('sec-1', { roles: ['security'] });
  });

  afterEach(async () => {
    await booted?.app.close();
    booted = undefined;
  });

  afterAll(() => auth.dispose());

  it('answers 503 and routes nothing while the replay fails, then answers from the whole state once it succeeds', async () => {
    // Given a request routed to a security task by an earlier instance, all on the log
    const bus = new FaultyLogBus({ registry });
    bus.append(...organisation(), catalogEvent());
    const earlier = await boot(bus, auth);
    await earlier.handler.onRequestSubmitted(submitted('req-a') as Envelope<RequestSubmittedData>);
    await earlier.handler.onDecisionRecorded(decided('req-a', SECURITY_ROUTE) as Envelope<DecisionRecordedData>);
    expect(bus.ofType(ApprovalTaskOpened.type)).toHaveLength(1);
    await earlier.app.close();

    // When the service starts while the broker refuses its replay
    bus.failing = true;
    booted = await boot(bus, auth);
    const { app, handler, state } = booted;
    // ...and a live request arrives meanwhile
    let routed = false;
    const live = (async () => {
      await handler.onRequestSubmitted(submitted('req-b') as Envelope<RequestSubmittedData>);
      await handler.onDecisionRecorded(decided('req-b', SECURITY_ROUTE) as Envelope<DecisionRecordedData>);
      routed = true;
    })();
    await eventually(() => expect(bus.replays).toBeGreaterThanOrEqual(3));

    // Then the state is not ready and says why
    expect(state.isReady()).toBe(false);
    expect(state.lastError).toBe('Error: broker unavailable: replay refused');
    // ...the routes answer 503 problem+json naming the state and the last error, not "no tasks" or "unknown request"
    const tasks = await request(app.getHttpServer())
      .get('/v1/approvals/tasks')
      .set('Authorization', security)
      .expect(503)
      .expect('content-type', /application\/problem\+json/);
    expect(tasks.body).toEqual({
      type: 'https://grantline.dev/problems/state-not-loaded',
      title: 'Service state not loaded',
      status: 503,
      detail: 'approval state is not loaded (last error: Error: broker unavailable: replay refused); try again later',
    });
    await request(app.getHttpServer()).get('/v1/approvals/requests/req-a').set('Authorization', security).expect(503);
    await request(app.getHttpServer())
      .post('/v1/approvals/tasks/req-a:security/decision')
      .set('Authorization', security)
      .send({ decision: 'approve' })
      .expect(503);
    // ...authentication still comes first
    await request(app.getHttpServer()).get('/v1/approvals/tasks').expect(401);
    // ...and the live request waits: nothing routed from an empty state
    expect(routed).toBe(false);
    expect(bus.ofType(ApprovalTaskOpened.type)).toHaveLength(1);

    // When the broker answers again
    bus.failing = false;
    await live;

    // Then the state is ready, the live request is routed once, and the routes answer from the whole history
    expect(state.isReady()).toBe(true);
    expect(state.lastError).toBeUndefined();
    expect(bus.ofType(ApprovalTaskOpened.type).map((event) => (event.data as { taskId: string }).taskId)).toEqual(['req-a:security', 'req-b:security']);
    const listed = await request(app.getHttpServer()).get('/v1/approvals/tasks').set('Authorization', security).expect(200);
    expect((listed.body as { tasks: { taskId: string }[] }).tasks.map((task) => task.taskId)).toEqual(['req-a:security', 'req-b:security']);
    await request(app.getHttpServer()).get('/v1/approvals/requests/req-a').set('Authorization', security).expect(200);
  });

  it('a handler still waiting when the service stops is released with a retriable error, having changed nothing', async () => {
    const bus = new FaultyLogBus({ registry });
    bus.failing = true;
    booted = await boot(bus, auth);
    const waiting = booted.handler.onRequestSubmitted(submitted('req-c') as Envelope<RequestSubmittedData>).then(
      () => 'handled',
      (error: unknown) => error,
    );
    await booted.app.close();
    booted = undefined;
    const released = await waiting;
    expect(released).toMatchObject({ name: 'RetriableError', message: expect.stringContaining('approval state was not loaded: the service is stopping') });
    expect(bus.size()).toBe(0);
  });
});
