// Certification without infrastructure: the real ApprovalsModule and CertificationModule over an in-memory log, HTTP
// through supertest, facts handed to the Kafka edges as the consumer would.
import { Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  ApprovalAccessDenied,
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  GrantActivated,
  GrantCreated,
  GrantDriftDetected,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyReviewItemsEvaluated,
  PolicySodViolationDetected,
  TimerFired,
  registry,
} from '@grantline/contracts';
import type {
  CampaignCompletedData,
  CampaignStartedData,
  CertificationDecidedData,
  CertificationLapsedData,
  DataOf,
  Envelope,
  EventDefinition,
  TimerFiredData,
} from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { InMemoryMessageBus } from '@grantline/messaging';
import { MessagingModule } from '@grantline/messaging-nest';
import { eventually } from '@grantline/testing';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { ApprovalEventsHandler } from '../approvals/approval-events.handler';
import { ApprovalsModule } from '../approvals/approvals.module';
import { catalogEvent, human, identityUpserted, organisation, submitted } from '../testing/approval-scenario';
import { specAuth } from '../testing/spec-auth.fixture';
import type { SpecAuth } from '../testing/spec-auth.fixture';
import { parseCampaignDefinition } from './domain/campaign-definition';
import { CertificationEventsHandler } from './certification-events.handler';
import { CertificationModule } from './certification.module';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const quarterly = parseCampaignDefinition(
  {
    definitionId: 'quarterly',
    name: 'Quarterly',
    triggers: ['schedule', 'on_demand'],
    cadence: 'P13W',
    scope: { sensitivities: ['high', 'critical'] },
    reviewer: { kind: 'manager' },
    deadline: 'P14D',
    onNoAnswer: 'revoke',
  },
  'quarterly.yaml',
);
const micro = (
  definitionId: string,
  trigger: 'owner_change' | 'drift' | 'sod_violation' | 'grant_recertification',
  kind: 'nhi_owner' | 'resource_owner' | 'manager',
) =>
  parseCampaignDefinition(
    { definitionId, name: definitionId, triggers: [trigger], reviewer: { kind }, deadline: 'P1D', onNoAnswer: 'revoke' },
    `${definitionId}.yaml`,
  );
const mover = parseCampaignDefinition(
  { definitionId: 'mover', name: 'Mover', triggers: ['mover'], reviewer: { kind: 'manager' }, deadline: 'P3D', onNoAnswer: 'revoke' },
  'mover.yaml',
);

let counter = 0;
const fact = <T extends EventDefinition>(def: T, data: DataOf<T>, subject: string, time = '2026-01-01T00:00:00.000Z'): Envelope =>
  registry.encode(def, data, {
    id: `spec-fact-${(counter += 1)}`,
    source: 'spec',
    time,
    subject,
    correlationid: subject,
    actor: { kind: 'service', id: 'provisioning' },
  });
/** A live grant of orders-read (high) to `beneficiaryId`, asked for by `requesterId`. */
const liveGrant = (requestId: string, beneficiaryId: string, requesterId = beneficiaryId): Envelope[] => {
  const grantId = `${requestId}:orders-read`;
  const kind = beneficiaryId.startsWith('svc-') ? 'service_account' : 'human';
  return [
    submitted(requestId, { requesterId, subject: { id: beneficiaryId, kind }, justification: `needed by ${beneficiaryId}` }),
    fact(
      GrantCreated,
      {
        grantId,
        requestId,
        beneficiaryId,
        entitlementId: 'orders-read',
        systemId: 'orders-db',
        connectorId: 'postgres',
        targetAccount: beneficiaryId,
        expiresAt: '2026-03-01T00:00:00.000Z',
        breakGlass: false,
        decisionId: `dec-${requestId}`,
      },
      requestId,
    ),
    fact(GrantActivated, { grantId, activatedAt: '2026-01-01T00:00:01.000Z', expiresAt: '2026-03-01T00:00:00.000Z' }, requestId),
  ];
};

describe('certification module (in-memory log)', () => {
  let bus: InMemoryMessageBus;
  let app: INestApplication;
  let handler: ApprovalEventsHandler;
  let auth: SpecAuth;
  const bearers = new Map<string, string>();
  const as = (principal: string): string => bearers.get(principal) ?? '';
  const call = (method: 'get' | 'post', path: string, principal: string, body?: object) => {
    const pending = request(app.getHttpServer())[method](path).set('Authorization', as(principal));
    return body === undefined ? pending : pending.send(body);
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    auth = await specAuth();
    for (const person of ['alice', 'bob', 'carol', 'fay', 'mallory']) bearers.set(person, await auth.bearer(person));
    bearers.set('security-sam', await auth.bearer('security-sam', { roles: ['security'] }));
  });

  afterAll(() => auth.dispose());

  beforeEach(async () => {
    bus = new InMemoryMessageBus({ registry });
    // bob manages alice and carol (who owns svc-orders); fay manages bob
    bus.append(
      ...organisation(),
      identityUpserted(human('bob', { managerId: 'fay' })),
      identityUpserted(human('fay')),
      catalogEvent(),
      ...liveGrant('req-alice', 'alice'),
      ...liveGrant('req-bob', 'bob'),
      ...liveGrant('req-svc', 'svc-orders', 'carol'),
    );
    const approvals = ApprovalsModule.forRoot({ config: { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: 0 }, clock: fixedClock(NOW) });
    @Module({
      imports: [
        MessagingModule.forRoot({ clientId: 'certification-spec', bus }),
        auth.module(),
        approvals,
        CertificationModule.forRoot({
          approvals,
          clock: fixedClock(NOW),
          config: {
            definitions: new Map([
              ['quarterly', quarterly],
              ['mover', mover],
              ['owner-change', micro('owner-change', 'owner_change', 'nhi_owner')],
              ['drift', micro('drift', 'drift', 'resource_owner')],
              ['sod', micro('sod', 'sod_violation', 'resource_owner')],
              ['recert', micro('recert', 'grant_recertification', 'manager')],
            ]),
          },
        }),
      ],
    })
    class SpecModule {}
    app = await NestFactory.create(SpecModule, { logger: false, abortOnError: false });
    await app.init();
    handler = app.get(ApprovalEventsHandler);
  });

  afterEach(() => app.close());

  const startQuarterly = async (): Promise<CampaignStartedData> => {
    const started = await call('post', '/v1/campaigns', 'security-sam', { definitionId: 'quarterly' }).expect(201);
    return bus.ofType(ApprovalCampaignStarted.type).find((event) => (event.data as CampaignStartedData).campaignId === started.body.campaignId)
      ?.data as CampaignStartedData;
  };

  it('arms the next run of a definition with a cadence once the state is loaded', async () => {
    await call('get', '/v1/campaigns', 'security-sam').expect(200);
    expect(bus.ofType(ApprovalCampaignScheduled.type).map((event) => event.data)).toEqual([
      { definitionId: 'quarterly', campaignId: 'quarterly:2026-04-06T12:00:00.000Z', dueAt: '2026-04-06T12:00:00.000Z' },
    ]);
  });

  it('security starts a campaign on demand; a member may not; an unknown definition is a 400 naming the field', async () => {
    await call('post', '/v1/campaigns', 'bob', { definitionId: 'quarterly' }).expect(403);
    const unknown = await call('post', '/v1/campaigns', 'security-sam', { definitionId: 'nope' }).expect(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'definitionId' })]);
    const started = await startQuarterly();
    expect(started.items.map(({ grantId, reviewerIds }) => ({ grantId, reviewerIds }))).toEqual([
      { grantId: 'req-alice:orders-read', reviewerIds: ['bob'] },
      { grantId: 'req-bob:orders-read', reviewerIds: ['fay'] },
      { grantId: 'req-svc:orders-read', reviewerIds: ['bob'] },
    ]);
    const listed = await call('get', '/v1/campaigns', 'security-sam').expect(200);
    expect(listed.body.campaigns).toEqual([
      expect.objectContaining({ campaignId: started.campaignId, status: 'open', counts: expect.objectContaining({ items: 3, open: 3 }) }),
    ]);
  });

  it('the reviewer sees their items with lineage, certifies one and revokes another; their own access is a recorded 403', async () => {
    const { campaignId } = await startQuarterly();
    const mine = await call('get', '/v1/certifications', 'bob').expect(200);
    expect(mine.body.items.map((item: { grantId: string }) => item.grantId)).toEqual(['req-alice:orders-read', 'req-svc:orders-read']);
    expect(mine.body.items[0].lineage).toMatchObject({
      request: { requestId: 'req-alice', requesterId: 'alice', justification: 'needed by alice' },
      grant: { activatedAt: '2026-01-01T00:00:01.000Z', expiresAt: '2026-03-01T00:00:00.000Z', breakGlass: false },
      lastUse: 'not_reported',
    });

    const item = (grantId: string): string => `/v1/campaigns/${encodeURIComponent(campaignId)}/items/${encodeURIComponent(`${campaignId}/${grantId}`)}`;
    await call('post', item('req-alice:orders-read'), 'bob', { decision: 'certify', comment: 'still on the orders team' }).expect(200);
    const bad = await call('post', item('req-svc:orders-read'), 'bob', { decision: 'reduce' }).expect(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'newExpiresAt' })]);
    await call('post', item('req-svc:orders-read'), 'bob', { decision: 'revoke' }).expect(200);
    expect(
      bus
        .ofType(ApprovalCertificationDecided.type)
        .map((event) => [(event.data as CertificationDecidedData).grantId, (event.data as CertificationDecidedData).decision, event.actor.id]),
    ).toEqual([
      ['req-alice:orders-read', 'certify', 'bob'],
      ['req-svc:orders-read', 'revoke', 'bob'],
    ]);

    // bob's own grant: 403 before the body is read, and the attempt is on the log twice over
    await call('post', item('req-bob:orders-read'), 'bob', { decision: 'certify' }).expect(403);
    expect(bus.ofType(ApprovalCertificationBlocked.type)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ attemptedById: 'bob', relation: 'beneficiary' }) }),
    ]);
    await eventually(() => expect(bus.ofType(ApprovalAccessDenied.type).filter((event) => event.subject === 'bob')).not.toEqual([]));
    // someone unrelated learns nothing
    await call('post', item('req-bob:orders-read'), 'mallory', { decision: 'certify' }).expect(404);
    await call('get', `/v1/campaigns/${encodeURIComponent(campaignId)}`, 'mallory').expect(404);
    const bobsView = await call('get', `/v1/campaigns/${encodeURIComponent(campaignId)}`, 'bob').expect(200);
    expect(bobsView.body.items.map((entry: { grantId: string }) => entry.grantId)).toEqual(['req-alice:orders-read', 'req-svc:orders-read']);
  });

  it('each item shows today’s policy verdict beside the one at grant time: pending until the policy service answers, then its verdict', async () => {
    const { campaignId, items } = await startQuarterly();
    const todayOf = async (principal: string): Promise<unknown[]> =>
      (await call('get', `/v1/campaigns/${encodeURIComponent(campaignId)}`, principal).expect(200)).body.items.map(
        (item: { lineage: { policyDecisionToday: unknown } }) => item.lineage.policyDecisionToday,
      );
    expect(await todayOf('security-sam')).toEqual([{ status: 'pending' }, { status: 'pending' }, { status: 'pending' }]);

    const [alice, ...others] = items;
    if (alice === undefined) throw new Error('expected items');
    await app.get(CertificationEventsHandler).onFact(
      fact(
        PolicyReviewItemsEvaluated,
        {
          campaignId,
          currentBundleDigest: 'c'.repeat(64),
          items: [
            {
              itemId: alice.itemId,
              grantId: alice.grantId,
              requestId: alice.requestId,
              outcome: 'evaluated',
              recordedDecisionId: 'dec-req-alice',
              recordedBundleDigest: 'a'.repeat(64),
              recordedEffect: 'require_approval',
              currentEffect: 'deny',
              currentReasons: ['orders-db is frozen'],
              changed: true,
            },
            ...others.map((item) => ({
              itemId: item.itemId,
              grantId: item.grantId,
              requestId: item.requestId,
              outcome: 'unknown' as const,
              reason: 'no_recorded_decision' as const,
              detail: `no decision for request ${item.requestId} is recorded on the log`,
            })),
          ],
        },
        campaignId,
        '2026-01-05T12:00:00.000Z',
      ),
    );
    expect(await todayOf('security-sam')).toEqual([
      {
        status: 'evaluated',
        bundleDigest: 'c'.repeat(64),
        effect: 'deny',
        reasons: ['orders-db is frozen'],
        changed: true,
        evaluatedAt: '2026-01-05T12:00:00.000Z',
      },
      expect.objectContaining({ status: 'unknown', reason: 'no_recorded_decision' }),
      expect.objectContaining({ status: 'unknown', reason: 'no_recorded_decision' }),
    ]);
    // the reviewer's own list shows it too
    const mine = await call('get', '/v1/certifications', 'bob').expect(200);
    expect(mine.body.items[0].lineage.policyDecisionToday).toMatchObject({ status: 'evaluated', changed: true });
  });

  it('at the deadline the unanswered item is revoked and the campaign completes', async () => {
    const { campaignId, dueAt } = await startQuarterly();
    const item = (grantId: string): string => `/v1/campaigns/${encodeURIComponent(campaignId)}/items/${encodeURIComponent(`${campaignId}/${grantId}`)}`;
    await call('post', item('req-alice:orders-read'), 'bob', { decision: 'certify' }).expect(200);
    await call('post', item('req-svc:orders-read'), 'bob', { decision: 'revoke' }).expect(200);
    const timer = fact(
      TimerFired,
      { timerId: `review_deadline:${campaignId}`, kind: 'review_deadline', dueAt, firedAt: dueAt, target: { reviewId: campaignId, campaignId } },
      campaignId,
      dueAt,
    );
    await handler.onTimerFired(timer as Envelope<TimerFiredData>);
    await handler.onTimerFired(timer as Envelope<TimerFiredData>);
    expect(
      bus
        .ofType(ApprovalCertificationLapsed.type)
        .map((event) => [(event.data as CertificationLapsedData).grantId, (event.data as CertificationLapsedData).action]),
    ).toEqual([['req-bob:orders-read', 'revoke']]);
    expect(bus.ofType(ApprovalCampaignCompleted.type).map((event) => (event.data as CampaignCompletedData).counts)).toEqual([
      { items: 3, certified: 1, revoked: 2, reduced: 0, lapsed: 1 },
    ]);
  });

  it('a mover opens one micro-certification of their grants for the new manager, with lineage', async () => {
    await call('get', '/v1/campaigns', 'security-sam').expect(200);
    const moved = registry.encode(
      IdentityUpserted,
      { identity: human('alice', { managerId: 'fay' }) },
      {
        id: 'evt-alice-moved',
        source: 'spec',
        time: '2026-01-05T10:00:00.000Z',
        subject: 'alice',
        correlationid: 'alice',
        actor: { kind: 'service', id: 'intake' },
      },
    );
    await handler.onIdentityUpserted(moved);
    await handler.onIdentityUpserted(moved);
    const micro = bus.ofType(ApprovalCampaignStarted.type).map((event) => event.data as CampaignStartedData);
    expect(
      micro.map(({ campaignId, trigger, triggerEventId, items }) => ({
        campaignId,
        trigger,
        triggerEventId,
        reviewers: items.map((i) => [i.grantId, i.reviewerIds]),
      })),
    ).toEqual([{ campaignId: 'mover:evt-alice-moved', trigger: 'mover', triggerEventId: 'evt-alice-moved', reviewers: [['req-alice:orders-read', ['fay']]] }]);
    const fays = await call('get', '/v1/certifications', 'fay').expect(200);
    expect(fays.body.items).toEqual([
      expect.objectContaining({
        grantId: 'req-alice:orders-read',
        lineage: expect.objectContaining({ request: expect.objectContaining({ justification: 'needed by alice' }) }),
      }),
    ]);
  });

  it('an NHI owner change, a drift finding and an SoD violation each open one micro-certification of the affected grants', async () => {
    await call('get', '/v1/campaigns', 'security-sam').expect(200);
    const ownerChanged = fact(
      IdentityOwnerChanged,
      { identityId: 'svc-orders', previousOwnerId: 'carol', newOwnerId: 'alice', reason: 'transfer', changedBy: 'carol' },
      'svc-orders',
      '2026-01-05T10:00:00.000Z',
    );
    const drift = fact(
      GrantDriftDetected,
      {
        connectorId: 'postgres',
        systemId: 'orders-db',
        kind: 'expired_but_present',
        grantId: 'req-bob:orders-read',
        targetAccount: 'bob',
        externalRef: 'orders_read',
        detectedAt: '2026-01-05T10:00:00.000Z',
        remediation: 'report_only',
      },
      'req-bob',
      '2026-01-05T10:00:00.000Z',
    );
    const sod = (scanId: string): Envelope =>
      fact(
        PolicySodViolationDetected,
        {
          violationId: 'viol-alice-orders',
          scanId,
          identityId: 'alice',
          combinationId: 'read-and-write',
          description: 'reads and writes orders',
          sides: [['orders-read'], ['orders-write']],
          grantIds: ['req-alice:orders-read'],
          unmanagedEntitlementIds: [],
          trigger: 'scheduled',
          bundleDigest: 'c'.repeat(64),
          detectedAt: '2026-01-05T10:00:00.000Z',
        },
        'alice',
        '2026-01-05T10:00:00.000Z',
      );
    const facts = app.get(CertificationEventsHandler);
    await handler.onIdentityOwnerChanged(ownerChanged);
    await handler.onIdentityOwnerChanged(ownerChanged);
    await facts.onFact(drift);
    await facts.onFact(sod('scan-1'));
    // the same violation in the next scan opens nothing new
    await facts.onFact(sod('scan-2'));
    const started = bus.ofType(ApprovalCampaignStarted.type).map((event) => event.data as CampaignStartedData);
    expect(started.map(({ definitionId, trigger, items }) => [definitionId, trigger, items.map((i) => [i.grantId, i.reviewerIds])])).toEqual([
      // the new owner reviews what the NHI holds
      ['owner-change', 'owner_change', [['req-svc:orders-read', ['alice']]]],
      // the entitlement's owner reviews the drifting grant and the toxic pair
      ['drift', 'drift', [['req-bob:orders-read', ['dave']]]],
      ['sod', 'sod_violation', [['req-alice:orders-read', ['dave']]]],
    ]);
    expect(started[2]?.campaignId).toBe('sod:viol-alice-orders');
  });

  it("a grant's own recertification_due timer opens one review of that grant for the holder's manager", async () => {
    await call('get', '/v1/campaigns', 'security-sam').expect(200);
    const due = '2026-01-05T09:00:00.000Z';
    const timer = fact(
      TimerFired,
      {
        timerId: 'recertification_due:req-alice:orders-read:1',
        kind: 'recertification_due',
        dueAt: due,
        firedAt: due,
        target: { grantId: 'req-alice:orders-read', requestId: 'req-alice' },
      },
      'req-alice',
      due,
    );
    await handler.onTimerFired(timer as Envelope<TimerFiredData>);
    await handler.onTimerFired(timer as Envelope<TimerFiredData>);
    const started = bus.ofType(ApprovalCampaignStarted.type).map((event) => event.data as CampaignStartedData);
    expect(started.map(({ campaignId, trigger, items }) => [campaignId, trigger, items.map((i) => [i.grantId, i.reviewerIds])])).toEqual([
      ['recert:recertification_due:req-alice:orders-read:1', 'grant_recertification', [['req-alice:orders-read', ['bob']]]],
    ]);
  });
});
