// The policy service against a real Kafka broker: decisions recorded from real topics, a backtest over that
// real log, and a simulation over HTTP. Every topic and group is this spec's own: the catalogue's event
// definitions are re-bound to spec topics in a registry the service takes from the messaging module.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  ApprovalBreakGlassGranted,
  ApprovalCampaignStarted,
  ApprovalReviewCompleted,
  ApprovalReviewOpened,
  CatalogPublished,
  EventRegistry,
  GrantActivated,
  GrantCreated,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantReconciliationCompleted,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyAccessDenied,
  PolicyBundleLoaded,
  PolicyDecisionRecorded,
  PolicyReviewItemsEvaluated,
  PolicySodScanCompleted,
  PolicySodViolationDetected,
  RequestSubmitted,
  defineEvent,
  registry as catalogue,
} from '@grantline/contracts';
import type { AccessDeniedData, DecisionRecordedData, Envelope, EventDefinition, SodViolationDetectedData, TopicName } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { GrantlineRole } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { KafkaEventTransport, MessagingModule } from '@grantline/messaging-nest';
import { readBundleDirectory } from '@grantline/policy-engine';
import { ApiAuthModule, ServiceMetrics } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import type { BacktestResponse } from './backtest/backtest.controller';
import { DecisionsModule } from './decisions/decisions.module';
import { DirectoryWaitService } from './decisions/directory-wait.service';
import { digestHex } from './domain';
import { SimulationModule } from './simulation/simulation.module';
import { SodModule } from './sod/sod.module';
import { SCENARIO_TIME, catalogEvent, grantEvents, identityEvents, requestEvent } from './testing/policy-scenario.fixtures';

const POLICIES = resolve(__dirname, '../../../policies');
const { kafkaBrokers } = infraEndpoints();
const prefix = uniqueName('spec.policy');
const topic = (name: string): TopicName => `${prefix}.${name}` as TopicName;
const on = <T extends EventDefinition>(def: T, name: string): EventDefinition => defineEvent(def.name, def.version, topic(name), def.schema);
/** The service's record of refused calls, on a topic of this spec's own. */
const denied = defineEvent(PolicyAccessDenied.name, PolicyAccessDenied.version, topic('denied'), PolicyAccessDenied.schema);

// Only the latest request version is registered: no upcaster needed, and it is what the handler declares.
const registry = new EventRegistry()
  .register(on(RequestSubmitted, 'requests'))
  .register(on(IdentityUpserted, 'identities'))
  .register(on(IdentityOwnerChanged, 'identities'))
  .register(on(IdentityOffboarded, 'identities'))
  .register(on(CatalogPublished, 'catalog'))
  .register(on(GrantCreated, 'grants'))
  .register(on(GrantActivated, 'grants'))
  .register(on(GrantRevoked, 'grants'))
  .register(on(GrantProvisioningFailed, 'grants'))
  .register(on(GrantDriftDetected, 'grants'))
  .register(on(GrantReconciliationCompleted, 'grants'))
  .register(on(ApprovalBreakGlassGranted, 'approvals'))
  .register(on(ApprovalReviewOpened, 'approvals'))
  .register(on(ApprovalReviewCompleted, 'approvals'))
  .register(on(ApprovalCampaignStarted, 'approvals'))
  .register(on(PolicyDecisionRecorded, 'decisions'))
  .register(on(PolicySodViolationDetected, 'decisions'))
  .register(on(PolicySodScanCompleted, 'decisions'))
  .register(on(PolicyReviewItemsEvaluated, 'decisions'))
  .register(on(PolicyBundleLoaded, 'bundles'))
  .register(denied)
  .register(catalogue.latestOf('iga.messaging.dead-lettered'));
/** Short enough for a spec, long enough for an identity published right after its request to arrive in time. */
const DIRECTORY_WAIT_MS = 5_000;
const SPEC_TOPICS = ['requests', 'identities', 'catalog', 'grants', 'approvals', 'decisions', 'bundles', 'denied'].map(topic);

const readTopic = async (bus: KafkaMessageBus, name: string): Promise<Envelope[]> => {
  const events: Envelope[] = [];
  await bus.replay({ topics: [topic(name)], handler: async (event) => void events.push(event) });
  return events;
};

/** A stricter candidate: nothing on the orders database any more. */
const stricterBundle = (): { path: string; content: string }[] => [
  ...readBundleDirectory(POLICIES),
  {
    path: 'freeze.yaml',
    content: [
      'kind: RuleSet',
      'description: Change freeze on the orders database.',
      'rules:',
      '  - id: orders-db-freeze',
      '    match: { systems: [orders-db] }',
      '    effect: deny',
      '    reason: "orders-db is frozen for the migration"',
      '',
    ].join('\n'),
  },
];

describe('policy service against a real Kafka log', () => {
  let bus: KafkaMessageBus;
  let app: INestApplication;
  let transport: KafkaEventTransport;
  const issuerDir = mkdtempSync(join(tmpdir(), 'policy-int-issuer-'));
  const tokens = new Map<string, string>();
  /** Authorization headers: `author` holds policy-author, `security` security, `member` nothing more. */
  const as = (who: string): string => `Bearer ${tokens.get(who) ?? ''}`;
  const previousBundleDir = process.env['POLICY_BUNDLE_DIR'];
  const previousWait = process.env['POLICY_DIRECTORY_WAIT_MS'];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    process.env['POLICY_BUNDLE_DIR'] = POLICIES;
    process.env['POLICY_DIRECTORY_WAIT_MS'] = String(DIRECTORY_WAIT_MS);
    bus = new KafkaMessageBus({ clientId: uniqueName('policy-spec'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    await bus.ensureTopics([...SPEC_TOPICS.map((name) => ({ topic: name, partitions: 2 })), { topic: 'iga.dead-letter.v1' }]);
    // Given identities and a catalogue already on the log when the service starts
    await bus.publisher.publish(topic('identities'), identityEvents(registry));
    await bus.publisher.publish(topic('catalog'), [catalogEvent(registry)]);

    const key = await ensureDevIssuerKey(issuerDir);
    const mint = (subject: string, roles: GrantlineRole[]): Promise<string> =>
      mintDevToken(key, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 900, roles });
    tokens.set('author', await mint(`${prefix}-author`, ['policy-author']));
    tokens.set('security', await mint(`${prefix}-security`, ['security']));
    tokens.set('member', await mint(`${prefix}-mallory`, []));

    // what the service kit gives the service's modules: the metrics registry its decisions are counted in
    @Global()
    @Module({ providers: [{ provide: ServiceMetrics, useValue: new ServiceMetrics('policy') }], exports: [ServiceMetrics] })
    class SpecMetricsModule {}

    @Module({
      imports: [
        SpecMetricsModule,
        MessagingModule.forRoot({ clientId: 'policy-spec', registry, bus }),
        ApiAuthModule.forRoot({ serviceName: 'policy', deniedEvent: denied, env: { AUTH_MODE: 'dev', DEV_ISSUER_DIR: issuerDir } }),
        DecisionsModule,
        SimulationModule,
        SodModule,
      ],
    })
    class SpecPolicyModule {}

    app = await NestFactory.create(SpecPolicyModule, { logger: false });
    // As main.ts runs it: not transactional; deterministic decision ids make a redelivered request's decision a duplicate.
    transport = new KafkaEventTransport({ bus, registry, groupId: uniqueName('policy-group'), fromBeginning: true });
    app.connectMicroservice({ strategy: transport });
    await app.startAllMicroservices();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await bus?.disconnect();
    rmSync(issuerDir, { recursive: true, force: true });
    if (previousBundleDir === undefined) delete process.env['POLICY_BUNDLE_DIR'];
    else process.env['POLICY_BUNDLE_DIR'] = previousBundleDir;
    if (previousWait === undefined) delete process.env['POLICY_DIRECTORY_WAIT_MS'];
    else process.env['POLICY_DIRECTORY_WAIT_MS'] = previousWait;
  });

  const decisionsOf = (requestId: string, atLeast = 1): Promise<Envelope<DecisionRecordedData>[]> =>
    eventually(
      async () => {
        const events = ((await readTopic(bus, 'decisions')) as Envelope<DecisionRecordedData>[]).filter((event) => event.data.requestId === requestId);
        if (events.length < atLeast) throw new Error(`no decision for ${requestId} yet`);
        return events;
      },
      { timeoutMs: 30_000 },
    );
  const whenParked = (requestEventId: string): Promise<void> =>
    eventually(
      async () => {
        if (!app.get(DirectoryWaitService).waiting().has(requestEventId)) throw new Error(`${requestEventId} is not waiting`);
      },
      { timeoutMs: 20_000 },
    );

  it('subscribes to requests, every state topic and its own decisions (read back for review items), nothing else', () => {
    expect(transport.subscribedTopics()).toEqual(['approvals', 'catalog', 'decisions', 'grants', 'identities', 'requests'].map(topic).sort());
  });

  it('announces the bundle it decides with on the bundles topic', async () => {
    const bundles = await readTopic(bus, 'bundles');
    expect(bundles).toHaveLength(1);
    expect(bundles[0]?.data).toMatchObject({ digest: expect.stringMatching(/^[a-f0-9]{64}$/), engine: 'cel' });
  });

  it('records a decision for each submitted request, the same one for a redelivered request', async () => {
    const ordersRead = requestEvent('req-orders', {}, registry);
    const wikiRead = requestEvent('req-wiki', { items: { entitlementIds: ['wiki-read'] } }, registry);
    const unknown = requestEvent('req-unknown', { items: { entitlementIds: ['no-such-thing'] } }, registry);
    // When three requests are submitted and the first is delivered twice
    await bus.publisher.publish(topic('requests'), [ordersRead, wikiRead, unknown]);
    await bus.publisher.publish(topic('requests'), [ordersRead]);
    await transport.whenCaughtUp(30_000);

    // Then the decisions topic holds one decision per request (the redelivery carries the same id)
    const decisions = await eventually(
      async () => {
        const events = (await readTopic(bus, 'decisions')) as Envelope<DecisionRecordedData>[];
        if (events.length < 4) throw new Error(`only ${events.length} decisions so far`);
        return events;
      },
      { timeoutMs: 20_000 },
    );
    const byRequest = new Map(decisions.map((event) => [event.data.requestId, event]));
    expect(new Set(decisions.map((event) => event.id)).size).toBe(3);
    expect(decisions.filter((event) => event.data.requestId === 'req-orders').map((event) => event.id)).toEqual([
      byRequest.get('req-orders')?.id,
      byRequest.get('req-orders')?.id,
    ]);
    expect(byRequest.get('req-orders')).toMatchObject({
      causationid: ordersRead.id,
      correlationid: 'req-orders',
      actor: { kind: 'service', id: 'policy' },
      data: { effect: 'require_approval', matchedRules: ['human-manager-approval', 'resource-owner-for-high'], engine: 'cel' },
    });
    expect(byRequest.get('req-orders')?.data.route?.stages.map((stage) => stage.id)).toEqual(['manager', 'resource_owner']);
    expect(byRequest.get('req-wiki')?.data).toMatchObject({ effect: 'auto_approve', matchedRules: ['human-low-nonprod-read'] });
    expect(byRequest.get('req-unknown')?.data).toMatchObject({
      effect: 'deny',
      engine: 'builtin',
      reasons: ['unknown entitlement "no-such-thing": it is not in the published catalogue'],
    });
  });

  it('answers a campaign start with one re-evaluation of its items: the recorded decision under today’s bundle, or why not', async () => {
    const campaignId = uniqueName('quarterly');
    const item = (requestId: string) => ({
      itemId: `${campaignId}/${requestId}:orders-read`,
      grantId: `${requestId}:orders-read`,
      requestId,
      beneficiaryId: 'alice',
      beneficiaryKind: 'human' as const,
      entitlementId: 'orders-read',
      systemId: 'orders-db',
      sensitivity: 'high' as const,
      environment: 'prod' as const,
      privileged: true,
      expiresAt: '2025-07-01T00:00:00.000Z',
      reviewerIds: ['bob'],
    });
    const started = registry.encode(
      ApprovalCampaignStarted,
      {
        campaignId,
        definitionId: 'quarterly',
        trigger: 'on_demand',
        startedBy: 'sec-1',
        startedAt: SCENARIO_TIME,
        dueAt: '2025-06-16T10:00:00.000Z',
        onNoAnswer: 'revoke',
        items: [item('req-orders'), item('req-never-decided')],
      },
      {
        id: uniqueName('campaign-started'),
        source: 'spec',
        time: SCENARIO_TIME,
        subject: campaignId,
        correlationid: campaignId,
        actor: { kind: 'service', id: 'approval' },
      },
    );
    // When the campaign's start is delivered twice
    await bus.publisher.publish(topic('approvals'), [started]);
    await bus.publisher.publish(topic('approvals'), [started]);

    // Then one answer (one id) on the decisions topic, keyed by the campaign
    const answers = await eventually(
      async () => {
        const events = (await readTopic(bus, 'decisions')).filter((event) => event.type === PolicyReviewItemsEvaluated.type && event.subject === campaignId);
        if (events.length === 0) throw new Error('no answer yet');
        return events;
      },
      { timeoutMs: 20_000 },
    );
    expect(new Set(answers.map((event) => event.id)).size).toBe(1);
    expect(answers[0]?.data).toMatchObject({
      campaignId,
      items: [
        { requestId: 'req-orders', outcome: 'evaluated', recordedEffect: 'require_approval', currentEffect: 'require_approval', changed: false },
        { requestId: 'req-never-decided', outcome: 'unknown', reason: 'no_recorded_decision' },
      ],
    });
  });

  it('backtests a stricter candidate over that log and reports the newly denied request', async () => {
    // When a candidate that freezes the orders database is backtested over the recorded decisions
    const response = await request(app.getHttpServer())
      .post('/v1/policy/backtest')
      .set('Authorization', as('author'))
      .send({ files: stricterBundle() })
      .expect(200);
    const body = response.body as BacktestResponse;
    // Then the orders request is newly denied, the wiki request unchanged, and the refusal is not re-run
    expect(body.history).toMatchObject({ read: 4, requests: 3, reproduced: 2, fromRecord: 0, refusals: 1, invalidSnapshots: 0 });
    expect(body.coverage).toEqual({ complete: true, compared: 3 });
    expect(body.report.total).toBe(2);
    expect(body.report.counts).toMatchObject({ newly_denied: 1, unchanged: 1, newly_auto_approved: 0, route_changed: 0 });
    expect(body.report.examples.newly_denied).toEqual([
      expect.objectContaining({
        requestId: 'req-orders',
        before: expect.objectContaining({ effect: 'require_approval' }),
        after: expect.objectContaining({ effect: 'deny', reasons: expect.arrayContaining(['orders-db is frozen for the migration']) }),
      }),
    ]);
    const announced = (await readTopic(bus, 'bundles'))[0]?.data as { digest: string };
    expect(Object.keys(body.report.recordedBundles).map(digestHex)).toEqual([announced.digest]);
    expect(body.rendered).toMatch(/req-orders/);
  });

  it('simulates a request over HTTP, with the trace, and records nothing', async () => {
    const before = (await readTopic(bus, 'decisions')).length;
    const response = await request(app.getHttpServer())
      .post('/v1/policy/simulate')
      .set('Authorization', as('security'))
      .send({
        request: { id: 'sim-1', duration: 'PT8H', justification: 'nightly export job' },
        subject: { id: 'ci-orders', kind: 'ci_pipeline', ownerOfRecord: 'alice' },
        entitlements: [{ id: 'orders-write', system: 'orders-db', sensitivity: 'medium', environment: 'prod', privilege: 'write', owner: 'dave' }],
        now: '2025-06-02T10:00:00Z',
      })
      .expect(200);
    expect(response.body).toMatchObject({
      bundle: { name: 'grantline-default', draft: false },
      decision: { effect: 'require_approval', route: [expect.objectContaining({ name: 'nhi_owner' }), expect.objectContaining({ name: 'security' })] },
    });
    expect(response.body.trace).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'nhi-privileged-prod', outcome: 'matched' })]));
    expect((await readTopic(bus, 'decisions')).length).toBe(before);
  });

  it('waits for a subject whose identity is published after the request, then decides it with that identity', async () => {
    // Given a request for Lee, whom the service has never seen, handled before Lee's identity
    const submitted = requestEvent(
      'req-late-identity',
      { requesterId: 'lee', subject: { id: 'lee', kind: 'human' }, items: { entitlementIds: ['wiki-read'] } },
      registry,
    );
    await bus.publisher.publish(topic('requests'), [submitted]);
    await whenParked(submitted.id);
    // When Lee's identity arrives
    await bus.publisher.publish(
      topic('identities'),
      identityEvents(registry, [{ kind: 'human', identityId: 'lee', displayName: 'Lee', team: 'docs', status: 'active', managerId: 'bob', attributes: {} }]),
    );
    // Then the request is decided by the engine with Lee's record (auto-approved), never refused as unknown
    const [decision, ...more] = await decisionsOf('req-late-identity');
    expect(more).toEqual([]);
    expect(decision).toMatchObject({ causationid: submitted.id, data: { effect: 'auto_approve', engine: 'cel', matchedRules: ['human-low-nonprod-read'] } });
    expect(app.get(DirectoryWaitService).waiting().has(submitted.id)).toBe(false);
  });

  it('refuses a request whose subject never arrives with the unknown-subject reason, after the configured wait', async () => {
    const publishedAt = Date.now();
    const submitted = requestEvent('req-ghost', { subject: { id: 'ghost', kind: 'human' }, items: { entitlementIds: ['wiki-read'] } }, registry);
    await bus.publisher.publish(topic('requests'), [submitted]);
    await whenParked(submitted.id);
    const [decision, ...more] = await decisionsOf('req-ghost');
    // The timer starts once the request is parked, after it was published: the refusal cannot come earlier.
    expect(Date.now() - publishedAt).toBeGreaterThanOrEqual(DIRECTORY_WAIT_MS);
    expect(more).toEqual([]);
    expect(decision).toMatchObject({
      causationid: submitted.id,
      data: { effect: 'deny', engine: 'builtin', reasons: ['unknown subject "ghost": no identity record'] },
    });
  });
  it('answers only policy authors (backtest) and security (simulate), and records every refusal on its topic', async () => {
    const server = app.getHttpServer();
    await request(server).post('/v1/policy/backtest').send({ files: stricterBundle() }).expect(401);
    await request(server).post('/v1/policy/simulate').send({}).expect(401);
    // Refused before the body is read: a member's empty body is a 403, not a 400.
    await request(server).post('/v1/policy/backtest').set('Authorization', as('member')).send({}).expect(403);
    await request(server).post('/v1/policy/simulate').set('Authorization', as('member')).send({}).expect(403);
    await request(server).post('/v1/policy/backtest').set('Authorization', as('security')).send({ files: stricterBundle() }).expect(403);
    await request(server).post('/v1/policy/simulate').set('Authorization', as('author')).send({}).expect(400);

    const refusals = await eventually(
      async () => {
        const events = ((await readTopic(bus, 'denied')) as Envelope<AccessDeniedData>[]).filter((event) => event.subject.startsWith(prefix));
        if (events.length < 3) throw new Error(`${events.length} refusal(s) on the log so far`);
        return events;
      },
      { timeoutMs: 20_000 },
    );
    expect(refusals.map((event) => ({ who: event.subject, ...event.data }))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          who: `${prefix}-mallory`,
          service: 'policy',
          operation: 'POST /v1/policy/backtest',
          status: 403,
          reason: 'requires the policy-author role',
        }),
        expect.objectContaining({ who: `${prefix}-mallory`, operation: 'POST /v1/policy/simulate', status: 403 }),
        expect.objectContaining({ who: `${prefix}-security`, operation: 'POST /v1/policy/backtest', status: 403, roles: ['member', 'security'] }),
      ]),
    );
    expect(refusals[0]).toMatchObject({ type: 'iga.policy.access-denied.v1', source: 'grantline/policy' });
  });

  it('scans for SoD violations on demand: a granted maker plus a checker role found on the target by hand is one violation, on the log', async () => {
    const server = app.getHttpServer();
    // Given Alice holds payments-write through a grant, and reconciliation found payments_checker on her account
    await bus.publisher.publish(topic('grants'), [
      ...grantEvents({ requestId: `${prefix}-maker`, beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }, registry),
      registry.encode(
        GrantDriftDetected,
        {
          connectorId: 'payments',
          systemId: 'payments',
          kind: 'unexpected_in_target',
          targetAccount: 'alice',
          externalRef: 'payments_checker',
          detectedAt: SCENARIO_TIME,
          remediation: 'report_only',
        },
        {
          id: `${prefix}-drift`,
          source: 'grantline/provisioning',
          time: SCENARIO_TIME,
          subject: 'rpt-1',
          correlationid: 'rpt-1',
          actor: { kind: 'service', id: 'provisioning' },
        },
      ),
    ]);
    // A member may not run it, and nothing is written but the refusal
    await request(server).post('/v1/sod/scans').set('Authorization', as('member')).expect(403);
    // When security runs it (once the service has folded the drift), Then the answer and the log name the violation
    const answer = await eventually(
      async () => {
        const response = await request(server).post('/v1/sod/scans').set('Authorization', as('security')).expect(200);
        const body = response.body as { scan: { scanId: string; requestedBy: string }; violations: SodViolationDetectedData[] };
        if (!body.violations.some((violation) => violation.identityId === 'alice')) throw new Error('no violation for alice yet');
        return body;
      },
      { timeoutMs: 20_000 },
    );
    expect(answer.scan.requestedBy).toBe(`${prefix}-security`);
    expect(answer.violations).toEqual([
      expect.objectContaining({
        identityId: 'alice',
        combinationId: 'payments-maker-checker',
        grantIds: [`${prefix}-maker:payments-write`],
        unmanagedEntitlementIds: ['payments-approver'],
      }),
    ]);
    const logged = await eventually(
      async () => {
        const events = (await readTopic(bus, 'decisions')).filter((event) => (event.data as { scanId?: string }).scanId === answer.scan.scanId);
        if (events.length < 2) throw new Error('the scan is not on the log yet');
        return events;
      },
      { timeoutMs: 20_000 },
    );
    expect(logged.map((event) => event.type).sort()).toEqual([PolicySodScanCompleted.type, PolicySodViolationDetected.type].sort());
  });
});
