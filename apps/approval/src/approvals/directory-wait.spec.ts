// "Wait until the directory knows, then route": the real ApprovalsModule over an in-memory log. Kafka orders
// only within a partition, so a decision may be consumed before the identity or catalogue it resolves
// approvers from; the specs deliver them in that order by calling the handlers directly.
import { Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { ApprovalBreakGlassGranted, ApprovalRequestApproved, ApprovalTaskOpened, registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, Identity, RequestSubmittedData, RequestWithdrawnData, TaskOpenedData } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { InMemoryMessageBus } from '@grantline/messaging';
import { MessagingModule } from '@grantline/messaging-nest';
import { eventually } from '@grantline/testing';
import { APPROVAL_SOURCE } from '../domain/approval.decide';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, decided, human, identityUpserted, organisation, stage, submitted, withdrawn } from '../testing/approval-scenario';
import { specAuth } from '../testing/spec-auth.fixture';
import type { SpecAuth } from '../testing/spec-auth.fixture';
import type { ApprovalConfig } from './approval.config';
import { ApprovalEventsHandler } from './approval-events.handler';
import { ApprovalStateService } from './approval-state.service';
import { ApprovalsModule } from './approvals.module';
import { DirectoryWaitService } from './directory-wait.service';

const NOW = new Date('2026-01-05T12:00:00.000Z');
/** Long enough never to expire within a spec unless the spec sets a short one. */
const LONG_WAIT_MS = 60_000;

interface Booted {
  app: INestApplication;
  handler: ApprovalEventsHandler;
  state: ApprovalStateService;
  /** The routes waiting for the directory. */
  wait: DirectoryWaitService;
}

let auth: SpecAuth;

const boot = async (bus: InMemoryMessageBus, directoryWaitMs = LONG_WAIT_MS): Promise<Booted> => {
  const config: ApprovalConfig = { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs };
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'approval-wait-spec', bus }), auth.module(), ApprovalsModule.forRoot({ config, clock: fixedClock(NOW) })],
  })
  class SpecModule {}
  const app = await NestFactory.create(SpecModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, handler: app.get(ApprovalEventsHandler), state: app.get(ApprovalStateService), wait: app.get(DirectoryWaitService) };
};

const onLog = (bus: InMemoryMessageBus, events: readonly Envelope[]): void => {
  bus.append(...events);
};

/** frank is new: his identity (manager bob) is published before his request but consumed after the decision. */
const FRANK: Identity = human('frank', { managerId: 'bob' });
const byFrank = { requesterId: 'frank', subject: { id: 'frank', kind: 'human' as const } };
const managerRoute = { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } };

describe('routing waits until the directory knows the people involved', () => {
  let bus: InMemoryMessageBus;
  let booted: Booted;
  /** Security may read every request; the people these requests concern are not all in the directory yet. */
  let security: string;

  const opened = (): TaskOpenedData[] => bus.ofType(ApprovalTaskOpened.type).map((event) => event.data as TaskOpenedData);
  const requestView = async (requestId: string): Promise<Record<string, unknown>> =>
    (await request(booted.app.getHttpServer()).get(`/v1/approvals/requests/${requestId}`).set('Authorization', security).expect(200)).body as Record<
      string,
      unknown
    >;
  /** What this service published (the log also holds what the specs deliver). */
  const published = (): Envelope[] => bus.events().filter((event) => event.source === APPROVAL_SOURCE);
  // Delivered events are on the log too, as on Kafka, so a restart replays them.
  const submit = (requestId: string, overrides: Parameters<typeof submitted>[1] = byFrank): Promise<void> => {
    const event = submitted(requestId, overrides);
    onLog(bus, [event]);
    return booted.handler.onRequestSubmitted(event as Envelope<RequestSubmittedData>);
  };
  const decide = (requestId: string, overrides: Parameters<typeof decided>[1] = managerRoute): Promise<void> => {
    const event = decided(requestId, overrides);
    onLog(bus, [event]);
    return booted.handler.onDecisionRecorded(event as Envelope<DecisionRecordedData>);
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    auth = await specAuth();
    security = await auth.bearer('security-sam', { roles: ['security'] });
  });

  afterAll(() => auth.dispose());

  beforeEach(() => {
    bus = new InMemoryMessageBus({ registry });
    onLog(bus, [...organisation(), catalogEvent()]);
  });

  afterEach(async () => {
    await booted.app.close();
  });

  it('a manager changed just before the request, not yet delivered live: the new manager gets the task, not the old one', async () => {
    // Given frank reporting to bob, folded at start
    onLog(bus, [identityUpserted(FRANK)]);
    booted = await boot(bus);
    // And HR moving frank under dave, on the log before his request, not delivered by the live consumer yet
    onLog(bus, [identityUpserted(human('frank', { managerId: 'dave' }))]);
    // When his request and its decision arrive
    await submit('req-moved');
    await decide('req-moved');
    // Then the task is dave's: routing waited until the directory held every fact published before the input
    expect(opened()).toEqual([expect.objectContaining({ taskId: 'req-moved:manager', eligibleApproverIds: ['dave'] })]);
  });

  it('a decision before the beneficiary: nothing published, waiting; an unrelated identity changes nothing; the beneficiary routes to the manager', async () => {
    booted = await boot(bus);
    await submit('req-w1');
    // When the decision is handled (its offset may be committed: the handler resolves) before frank is known
    await decide('req-w1');
    expect(published()).toEqual([]);
    expect(booted.wait.waitingFor('req-w1')).toEqual([{ kind: 'identity', identityId: 'frank', role: 'beneficiary' }]);
    expect(await requestView('req-w1')).toMatchObject({ status: 'pending', tasks: [], waitingForDirectory: [{ kind: 'identity', identityId: 'frank' }] });

    await booted.handler.onIdentityUpserted(identityUpserted(human('zoe')));
    expect(opened()).toEqual([]);

    // When frank's identity arrives, the handler resolves once the task is published
    await booted.handler.onIdentityUpserted(identityUpserted(FRANK));
    expect(opened()).toEqual([expect.objectContaining({ taskId: 'req-w1:manager', eligibleApproverIds: ['bob'] })]);
    expect(booted.wait.waitingCount).toBe(0);
    expect(await requestView('req-w1')).not.toHaveProperty('waitingForDirectory');

    // A redelivered identity, or a later decision for the request, routes nothing new
    await booted.handler.onIdentityUpserted(identityUpserted(FRANK));
    await decide('req-w1');
    expect(opened()).toHaveLength(1);
  });

  it('an NHI under the manager resolver waits for its record, then for its owner (whose manager answers)', async () => {
    booted = await boot(bus);
    await submit('req-w2', { requesterId: 'alice', subject: { id: 'svc-new', kind: 'service_account' } });
    await decide('req-w2');
    expect(booted.wait.waitingFor('req-w2')).toEqual([{ kind: 'identity', identityId: 'svc-new', role: 'beneficiary' }]);
    await booted.handler.onIdentityUpserted(
      identityUpserted({ identityId: 'svc-new', kind: 'service_account', displayName: 'new exporter', status: 'active', attributes: {}, ownerId: 'gina' }),
    );
    expect(opened()).toEqual([]);
    expect(booted.wait.waitingFor('req-w2')).toEqual([{ kind: 'identity', identityId: 'gina', role: 'nhi_owner' }]);
    await booted.handler.onIdentityUpserted(identityUpserted(human('gina', { managerId: 'dave' })));
    expect(opened()).toEqual([expect.objectContaining({ eligibleApproverIds: ['dave'] })]);
  });

  it('resource_owner waits for the catalogue', async () => {
    bus = new InMemoryMessageBus({ registry });
    onLog(bus, organisation());
    booted = await boot(bus);
    await submit('req-w3', { items: { accessPackageId: 'orders-analyst' } });
    await decide('req-w3', { route: { stages: [stage('owner', [{ resolver: 'resource_owner' }])] } });
    expect(booted.wait.waitingFor('req-w3')).toEqual([{ kind: 'access_package', accessPackageId: 'orders-analyst' }]);
    await booted.handler.onCatalogPublished(catalogEvent());
    expect(opened()).toEqual([expect.objectContaining({ eligibleApproverIds: ['dave'] })]);
  });

  it('the identity never arrives: after the wait the route proceeds with what is known (the security group stands in)', async () => {
    booted = await boot(bus, 50);
    await submit('req-w4');
    await decide('req-w4');
    expect(booted.wait.waitingCount).toBe(1);
    const task = await eventually(() => {
      const [first] = opened();
      if (!first) throw new Error('not routed yet');
      return first;
    });
    expect(task).toMatchObject({ taskId: 'req-w4:manager', eligibleApproverIds: ['sec-1', 'sec-2'] });
    expect(booted.wait.waitingCount).toBe(0);
  });

  it('a failed publish when the identity arrives fails the directory event (redelivered) and keeps the request waiting', async () => {
    booted = await boot(bus);
    await submit('req-w5');
    await decide('req-w5');
    bus.failNextPublish();
    await expect(booted.handler.onIdentityUpserted(identityUpserted(FRANK))).rejects.toThrow('broker unavailable');
    expect(opened()).toEqual([]);
    expect(booted.wait.waitingFor('req-w5')).toBeDefined();
    await booted.handler.onIdentityUpserted(identityUpserted(FRANK));
    expect(opened()).toEqual([expect.objectContaining({ eligibleApproverIds: ['bob'] })]);
  });

  it('a withdrawal ends the wait: the identity arriving later routes nothing', async () => {
    booted = await boot(bus);
    await submit('req-w6');
    await decide('req-w6');
    await booted.handler.onRequestWithdrawn(withdrawn('req-w6', 'frank') as Envelope<RequestWithdrawnData>);
    expect(booted.wait.waitingCount).toBe(0);
    expect(await requestView('req-w6')).toMatchObject({ status: 'withdrawn' });
    expect(await requestView('req-w6')).not.toHaveProperty('waitingForDirectory');
    await booted.handler.onIdentityUpserted(identityUpserted(FRANK));
    expect(opened()).toEqual([]);
    expect(booted.wait.waitingCount).toBe(0);
  });

  it('break-glass and auto-approval are not delayed by an unknown beneficiary', async () => {
    booted = await boot(bus);
    await submit('req-w7', { ...byFrank, emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } } });
    await decide('req-w7', { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } });
    expect(bus.ofType(ApprovalBreakGlassGranted.type)).toHaveLength(1);
    await submit('req-w8');
    await decide('req-w8', { effect: 'auto_approve' });
    expect(bus.ofType(ApprovalRequestApproved.type)).toHaveLength(1);
    expect(booted.wait.waitingCount).toBe(0);
  });

  it('a wait of 0 routes at once with what is known', async () => {
    booted = await boot(bus, 0);
    await submit('req-w9');
    await decide('req-w9');
    expect(opened()).toEqual([expect.objectContaining({ eligibleApproverIds: ['sec-1', 'sec-2'] })]);
  });

  it('shutdown clears the waits', async () => {
    booted = await boot(bus);
    await submit('req-w10');
    await decide('req-w10');
    expect(booted.wait.waitingCount).toBe(1);
    await booted.app.close();
    expect(booted.wait.waitingCount).toBe(0);
    booted = await boot(bus);
  });

  describe('after a restart (the waiting set is not persisted)', () => {
    it('a route that was waiting waits again after the replay and routes when the identity arrives', async () => {
      booted = await boot(bus);
      await submit('req-r1');
      await decide('req-r1');
      await booted.app.close();

      booted = await boot(bus);
      await booted.state.whenLoaded();
      expect(booted.wait.waitingFor('req-r1')).toEqual([{ kind: 'identity', identityId: 'frank', role: 'beneficiary' }]);
      await booted.handler.onIdentityUpserted(identityUpserted(FRANK));
      expect(opened()).toEqual([expect.objectContaining({ taskId: 'req-r1:manager', eligibleApproverIds: ['bob'] })]);
    });

    it('a decision with no route on the log is routed by the replay itself once the directory knows, exactly once', async () => {
      // Given the previous instance committed the decision while waiting, and the identity was published since
      onLog(bus, [submitted('req-r2', byFrank), decided('req-r2', managerRoute), identityUpserted(FRANK)]);
      booted = await boot(bus);
      await booted.state.whenLoaded();
      expect(opened()).toEqual([expect.objectContaining({ taskId: 'req-r2:manager', eligibleApproverIds: ['bob'] })]);
      await booted.app.close();

      // A second restart finds the task on the log: nothing to resume
      booted = await boot(bus);
      await booted.state.whenLoaded();
      expect(opened()).toHaveLength(1);
      expect(booted.wait.waitingCount).toBe(0);
    });
  });
});
