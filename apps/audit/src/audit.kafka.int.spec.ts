import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { createConnection } from 'mongoose';
import request from 'supertest';
import type { Test } from 'supertest';
import { AuditAccessDenied, EventRegistry, TOPICS, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { AccessDeniedData, Envelope, TopicName } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey, GrantlineRole } from '@grantline/http-edge';
import { silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { KafkaEventTransport, MESSAGE_BUS, MessagingModule } from '@grantline/messaging-nest';
import { ApiAuthModule } from '@grantline/service-kit';
import { eventually, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { AuditModule } from './audit.module';
import { ReadModelStore } from './persistence/read-model.store';
import { AUDIT_EVENT_TYPES } from './projections/projection';
import { AuditCatchUp } from './projector/audit-catch-up.service';
import { human, identityUpserted, serviceAccount } from './testing/identity-events.fixture';
import { BUNDLE_DIGEST, grantIdOfLifecycle, lifecycleEvents } from './testing/lifecycle-events.fixture';
import { driftFinding, reconciliationCompleted } from './testing/reconciliation-events.fixture';

function kafkaBrokers(): string[] {
  const raw = process.env['KAFKA_BROKERS'];
  if (raw === undefined || raw === '') throw new Error('KAFKA_BROKERS not set: run integration specs through jest global setup (npm test)');
  return raw.split(',').map((broker) => broker.trim());
}

// Spec-specific topics: the same event types, each moved to `<prefix>.<catalogue topic>`.
const prefix = uniqueName('spec_audit');
const topicFor = (topic: string): TopicName => `${prefix}.${topic}` as TopicName;
const specRegistry = new EventRegistry();
for (const type of AUDIT_EVENT_TYPES) {
  const def = catalogue.definitionOf(type);
  specRegistry.register(defineEvent(def.name, def.version, topicFor(def.topic), def.schema));
}
specRegistry.register(catalogue.latestOf('iga.messaging.dead-lettered'));
const specTopics = [...new Set(AUDIT_EVENT_TYPES.map((type) => specRegistry.definitionOf(type).topic))];
// The audit records its refusals on (the spec's copy of) the topic it owns, and reads them back from there.
const specAccessDenied = defineEvent(AuditAccessDenied.name, AuditAccessDenied.version, topicFor(AuditAccessDenied.topic), AuditAccessDenied.schema);

describe('audit service against real Kafka and the real MongoDB-wire server', () => {
  const database = uniqueName('audit_kafka');
  const groupId = uniqueName('audit_group');
  const running: { app: INestApplication; transport: KafkaEventTransport }[] = [];
  const issuerDir = mkdtempSync(join(tmpdir(), 'audit-dev-issuer-'));
  let key: DevIssuerKey;
  let auditor: string;

  /** A dev-issuer token; a person unless `workload`, so it carries `member` besides `roles`. */
  const token = (subject: string, roles: GrantlineRole[] = []): Promise<string> =>
    mintDevToken(key, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 600, roles });
  /** GET with `bearer` as the Authorization header, or none. */
  const get = (app: INestApplication, path: string, bearer?: string): Test => {
    const call = request(app.getHttpServer()).get(path);
    return bearer === undefined ? call : call.set('Authorization', `Bearer ${bearer}`);
  };

  beforeAll(async () => {
    key = await ensureDevIssuerKey(issuerDir);
    auditor = await token('audrey', ['auditor']);
  });

  async function startAudit(): Promise<{ app: INestApplication; transport: KafkaEventTransport }> {
    @Module({
      imports: [
        MongooseModule.forRoot(mongoDatabaseUrl(database)),
        MessagingModule.forRoot({
          clientId: uniqueName('audit'),
          brokers: kafkaBrokers(),
          registry: specRegistry,
          logger: silentLogger,
          topics: [...specTopics.map((topic) => ({ topic, partitions: 2 })), { topic: TOPICS.deadLetter }],
        }),
        ApiAuthModule.forRoot({
          serviceName: 'audit',
          deniedEvent: specAccessDenied,
          env: { AUTH_MODE: 'dev', DEV_ISSUER_DIR: issuerDir },
          // every refusal of this spec is recorded (the default limit would fold some into a count)
          deniedAttempts: { perWindow: 100 },
        }),
        AuditModule,
      ],
    })
    class SpecAuditApp {}
    const app = await NestFactory.create(SpecAuditApp, { logger: false });
    const transport = new KafkaEventTransport({ bus: app.get<MessageBus>(MESSAGE_BUS), registry: specRegistry, groupId, fromBeginning: true });
    app.connectMicroservice({ strategy: transport });
    await app.init();
    await app.startAllMicroservices();
    running.push({ app, transport });
    return { app, transport };
  }

  afterAll(async () => {
    for (const { app } of running) await app.close().catch(() => undefined);
    const connection = await createConnection(mongoDatabaseUrl(database)).asPromise();
    await connection.dropDatabase();
    await connection.close();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  const requests = ['req-k1', 'req-k2', 'req-k3'];
  const grantId = grantIdOfLifecycle({ requestId: 'req-k1' });

  it('Given a full lifecycle published on the topics, When the audit consumes it, Then the query API explains the grant end to end', async () => {
    const { app, transport } = await startAudit();
    const bus = app.get<MessageBus>(MESSAGE_BUS);
    for (const requestId of requests) {
      for (const { topic, event } of lifecycleEvents({ requestId, subjectId: `svc-${requestId}` })) await bus.publisher.publish(topicFor(topic), [event]);
    }
    // the same event published twice (a producer retry) must not show twice
    const [first] = lifecycleEvents({ requestId: 'req-k1', subjectId: 'svc-req-k1' });
    await bus.publisher.publish(topicFor(first!.topic), [first!.event]);

    await transport.whenCaughtUp(60_000);

    const explain = await get(app, `/v1/audit/grants/${encodeURIComponent(grantId)}/explain`, auditor).expect(200);
    expect(explain.body).toMatchObject({
      grantId,
      requestId: 'req-k1',
      request: { requesterId: 'alice', justification: 'Nightly export job needs read access to orders', ticket: { id: 'OPS-123' } },
      decision: { bundleDigest: BUNDLE_DIGEST, matchedRules: ['nhi-owner-approval'], effect: 'require_approval' },
      approvals: [{ approverId: 'bob', comment: 'Matches the export runbook' }],
      grant: { connectorId: 'pg-main', activatedAt: '2025-03-01T09:06:00.000Z' },
      ending: { reason: 'expiry', at: '2025-03-01T17:01:00.000Z', expiryTimerFiredAt: '2025-03-01T17:00:00.000Z' },
      missing: [],
    });

    const timeline = await get(app, '/v1/audit/requests/req-k1/timeline', auditor).expect(200);
    expect(timeline.body.entries).toHaveLength(12);
    expect(timeline.body.status).toBe('ended');

    const held = await get(app, '/v1/audit/grants', auditor).query({ subjectId: 'svc-req-k2' }).expect(200);
    expect(held.body).toEqual({ grants: [] });
    const history = await get(app, '/v1/audit/grants', auditor).query({ subjectId: 'svc-req-k2', includeEnded: 'true' }).expect(200);
    expect(history.body.grants).toEqual([expect.objectContaining({ status: 'revoked', revokeReason: 'expiry', entitlementId: 'ent-pg-orders-read' })]);
    const byEntitlement = await get(app, '/v1/audit/grants', auditor).query({ entitlementId: 'ent-pg-orders-read', includeEnded: 'true' }).expect(200);
    expect(byEntitlement.body.grants).toHaveLength(3);

    const unknownGrant = await get(app, '/v1/audit/grants/no-such-grant/explain', auditor).expect(404);
    expect(unknownGrant.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(unknownGrant.text)).toMatchObject({ status: 404, title: 'Not found', detail: 'Unknown grant no-such-grant' });
    await get(app, '/v1/audit/requests/no-such-request/timeline', auditor).expect(404);
    const noFilter = await get(app, '/v1/audit/grants', auditor).expect(400);
    expect(noFilter.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(noFilter.text)).toMatchObject({ status: 400, errors: [{ field: 'subjectId', message: 'Required: subjectId or entitlementId' }] });
    const badFlag = await get(app, '/v1/audit/grants', auditor).query({ subjectId: 'alice', includeEnded: 'yes' }).expect(400);
    expect(JSON.parse(badFlag.text).errors).toEqual([expect.objectContaining({ field: 'includeEnded' })]);

    // Who had access at a past instant: the three grants were live from 09:06 until 17:01 on 2025-03-01.
    const asOf = async (instant: string): Promise<{ requestId: string }[]> =>
      (
        (await get(app, '/v1/audit/grants', auditor).query({ entitlementId: 'ent-pg-orders-read', asOf: instant }).expect(200)).body.grants as {
          requestId: string;
        }[]
      ).sort((a, b) => a.requestId.localeCompare(b.requestId));
    expect(await asOf('2025-03-01T09:00:00.000Z')).toEqual([]);
    expect(await asOf('2025-03-01T12:00:00.000Z')).toEqual(
      requests.map((requestId) => expect.objectContaining({ requestId, subjectId: `svc-${requestId}`, status: 'revoked' })),
    );
    expect(await asOf('2025-03-01T17:01:00.000Z')).toEqual([]);
    for (const [query, field] of [
      [{ asOf: '2999-01-01T00:00:00.000Z' }, 'asOf'],
      [{ asOf: 'yesterday' }, 'asOf'],
      [{ asOf: '2025-03-01T12:00:00.000Z', includeEnded: 'true' }, 'includeEnded'],
    ] as const) {
      const refused = await get(app, '/v1/audit/grants', auditor)
        .query({ subjectId: 'alice', ...query })
        .expect(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(refused.text).errors).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('Given reconciliations of a connector published out of order, When the audit consumes them, Then the reconciliations and the current drift are answered', async () => {
    const { app, transport } = running[0]!;
    const bus = app.get<MessageBus>(MESSAGE_BUS);
    const grantsTopic = topicFor(TOPICS.grants);
    const [older, latest, arriving] = ['2025-03-02T02:00:00.000Z', '2025-03-03T02:00:00.000Z', '2025-03-04T02:00:00.000Z'];
    const noDrift = { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 };
    const olderUnexpected = driftFinding({
      eventId: 'k-drift-older',
      connectorId: 'pg-main',
      kind: 'unexpected_in_target',
      targetAccount: 'mallory',
      externalRef: 'orders_admin',
      detectedAt: older,
      correlationId: 'rpt-k1',
    });
    const latestUnexpected = driftFinding({
      eventId: 'k-drift-latest-unexpected',
      connectorId: 'pg-main',
      kind: 'unexpected_in_target',
      targetAccount: 'eve',
      externalRef: 'orders_write',
      detectedAt: latest,
      correlationId: 'rpt-k2',
    });
    const latestExpired = driftFinding({
      eventId: 'k-drift-latest-expired',
      connectorId: 'pg-main',
      kind: 'expired_but_present',
      grantId,
      targetAccount: 'svc_orders_exporter',
      externalRef: 'orders_read',
      detectedAt: latest,
      correlationId: 'req-k1',
    });
    const published = [
      // the completion of the latest reconciliation is read before its findings, the older one's after
      reconciliationCompleted(
        {
          reportId: 'rpt-k2',
          connectorId: 'pg-main',
          observedAt: latest,
          assignments: 5,
          grantsExpected: 3,
          drift: { ...noDrift, unexpectedInTarget: 1, expiredButPresent: 1 },
        },
        'k-completed-2',
      ),
      latestUnexpected,
      olderUnexpected,
      reconciliationCompleted(
        { reportId: 'rpt-k1', connectorId: 'pg-main', observedAt: older, assignments: 4, grantsExpected: 3, drift: { ...noDrift, unexpectedInTarget: 1 } },
        'k-completed-1',
      ),
      latestExpired,
      // a producer retry
      latestUnexpected,
      // a reconciliation still arriving: a finding without its completion
      driftFinding({
        eventId: 'k-drift-arriving',
        connectorId: 'pg-main',
        kind: 'unexpected_in_target',
        targetAccount: 'trent',
        externalRef: 'orders_admin',
        detectedAt: arriving,
        correlationId: 'rpt-k3',
      }),
      driftFinding({
        eventId: 'k-drift-ldap',
        connectorId: 'ldap-corp',
        kind: 'unexpected_in_target',
        targetAccount: 'mallory',
        externalRef: 'cn=admins',
        detectedAt: latest,
        correlationId: 'rpt-k9',
      }),
    ];
    for (const event of published) await bus.publisher.publish(grantsTopic, [event]);

    await transport.whenCaughtUp(60_000);

    const listed = await get(app, '/v1/audit/reconciliations', auditor).query({ connectorId: 'pg-main' }).expect(200);
    expect(listed.body).toEqual({
      reconciliations: [
        { connectorId: 'pg-main', observedAt: arriving, completed: false, findings: [expect.objectContaining({ eventId: 'k-drift-arriving' })] },
        {
          connectorId: 'pg-main',
          observedAt: latest,
          completed: true,
          reportId: 'rpt-k2',
          assignments: 5,
          grantsExpected: 3,
          drift: { missingInTarget: 0, unexpectedInTarget: 1, expiredButPresent: 1 },
          findings: [expect.objectContaining({ eventId: 'k-drift-latest-expired' }), expect.objectContaining({ eventId: 'k-drift-latest-unexpected' })],
        },
        expect.objectContaining({ observedAt: older, completed: true, reportId: 'rpt-k1', findings: [expect.objectContaining({ eventId: 'k-drift-older' })] }),
      ],
    });

    const drift = await get(app, '/v1/audit/drift', auditor).query({ connectorId: 'pg-main' }).expect(200);
    expect(drift.body).toEqual({
      connectorId: 'pg-main',
      observedAt: latest,
      reportId: 'rpt-k2',
      drift: { missingInTarget: 0, unexpectedInTarget: 1, expiredButPresent: 1 },
      findingsPending: 0,
      findings: [
        {
          eventId: 'k-drift-latest-expired',
          kind: 'expired_but_present',
          systemId: 'sys-pg-main',
          grantId,
          targetAccount: 'svc_orders_exporter',
          externalRef: 'orders_read',
          remediation: 'report_only',
        },
        {
          eventId: 'k-drift-latest-unexpected',
          kind: 'unexpected_in_target',
          systemId: 'sys-pg-main',
          targetAccount: 'eve',
          externalRef: 'orders_write',
          remediation: 'report_only',
        },
      ],
    });

    // a finding about a grant is also part of its request's story; the completion belongs to no request
    const timeline = await get(app, '/v1/audit/requests/req-k1/timeline', auditor).expect(200);
    expect(timeline.body.entries.at(-1)).toMatchObject({ eventId: 'k-drift-latest-expired', type: 'iga.grant.drift-detected.v1', grantId });
    await get(app, '/v1/audit/requests/rpt-k2/timeline', auditor).expect(404);

    for (const connectorId of ['ldap-corp', 'no-such-connector']) {
      const none = await get(app, '/v1/audit/drift', auditor).query({ connectorId }).expect(404);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(none.text)).toMatchObject({ status: 404, detail: `No completed reconciliation of connector ${connectorId}` });
    }
    for (const path of ['/v1/audit/reconciliations', '/v1/audit/drift']) {
      for (const query of [{}, { connectorId: 'has space' }]) {
        const refused = await get(app, path, auditor).query(query).expect(400);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(refused.text).errors).toEqual([expect.objectContaining({ field: 'connectorId' })]);
      }
    }
  });

  it('Given the identity source names managers and owners, When people read the audit, Then each sees what concerns them, others are refused and every refusal is listed', async () => {
    const { app, transport } = running[0]!;
    const bus = app.get<MessageBus>(MESSAGE_BUS);
    // carol (managed by maria) asks for herself; the service account of req-k1 is owned by dave (version 2) — a late
    // copy of an older record naming mallory (version 1) must not make her its owner
    for (const { topic, event } of lifecycleEvents({ requestId: 'req-k4', subjectId: 'carol', subjectKind: 'human' }))
      await bus.publisher.publish(topicFor(topic), [event]);
    const identities = topicFor(TOPICS.identities);
    await bus.publisher.publish(identities, [
      identityUpserted(human('carol', 'maria'), { eventId: 'k-id-carol', time: '2025-02-01T09:00:00.000Z' }),
      identityUpserted(serviceAccount('svc-req-k1', 'dave'), { eventId: 'k-id-svc-2', time: '2025-02-01T09:00:00.000Z', sourceVersion: 2 }),
      identityUpserted(serviceAccount('svc-req-k1', 'mallory'), { eventId: 'k-id-svc-1', time: '2025-02-02T09:00:00.000Z', sourceVersion: 1 }),
    ]);
    await transport.whenCaughtUp(60_000);
    const carolsGrant = grantIdOfLifecycle({ requestId: 'req-k4' });
    const explainPath = (id: string): string => `/v1/audit/grants/${encodeURIComponent(id)}/explain`;
    const [mallory, carol, maria, alice, dave, operator, security] = await Promise.all([
      token('mallory'),
      token('carol'),
      token('maria'),
      token('alice'),
      token('dave'),
      token('olga', ['operator']),
      token('sam', ['security']),
    ]);

    // no token: 401 with a bearer challenge, on every route
    for (const path of [
      '/v1/audit/requests/req-k4/timeline',
      '/v1/audit/grants?subjectId=carol',
      explainPath(carolsGrant),
      '/v1/audit/reconciliations?connectorId=pg-main',
      '/v1/audit/drift?connectorId=pg-main',
      '/v1/audit/access-denials',
    ]) {
      const anonymous = await get(app, path).expect(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    }

    // the beneficiary and her manager read her request, her grant and her grants; so does the requester, but not her grants
    for (const reader of [carol, maria]) {
      await get(app, '/v1/audit/requests/req-k4/timeline', reader).expect(200);
      expect((await get(app, explainPath(carolsGrant), reader).expect(200)).body).toMatchObject({
        grantId: carolsGrant,
        request: { subject: { id: 'carol' } },
      });
      expect((await get(app, '/v1/audit/grants?subjectId=carol&includeEnded=true', reader).expect(200)).body.grants).toEqual([
        expect.objectContaining({ grantId: carolsGrant }),
      ]);
    }
    await get(app, '/v1/audit/requests/req-k4/timeline', alice).expect(200);
    await get(app, '/v1/audit/grants?subjectId=carol', alice).expect(403);
    // the NHI's owner of record (the higher source version) reads its grant; the owner named by the stale copy does not
    await get(app, explainPath(grantId), dave).expect(200);
    await get(app, '/v1/audit/grants?subjectId=svc-req-k1&includeEnded=true', dave).expect(200);
    await get(app, explainPath(grantId), mallory).expect(404);
    // operators read reconciliations and drift, not requests; security reads everything
    await get(app, '/v1/audit/reconciliations?connectorId=pg-main', operator).expect(200);
    await get(app, '/v1/audit/requests/req-k4/timeline', operator).expect(404);
    await get(app, '/v1/audit/grants?entitlementId=ent-pg-orders-read', security).expect(200);

    // mallory, related to nothing: what she may not see answers like what does not exist, and she is refused before validation
    const hidden = await get(app, '/v1/audit/requests/req-k4/timeline', mallory).expect(404);
    const missing = await get(app, '/v1/audit/requests/no-such-request/timeline', auditor).expect(404);
    expect(hidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(hidden.text)).toEqual({ ...JSON.parse(missing.text), detail: 'Unknown request req-k4' });
    expect(JSON.parse((await get(app, explainPath(carolsGrant), mallory).expect(404)).text)).toMatchObject({
      status: 404,
      title: 'Not found',
      detail: `Unknown grant ${carolsGrant}`,
    });
    await get(app, '/v1/audit/requests/has%20space/timeline', mallory).expect(404);
    expect(JSON.parse((await get(app, '/v1/audit/grants?subjectId=carol', mallory).expect(403)).text)).toMatchObject({ status: 403, title: 'Forbidden' });
    await get(app, '/v1/audit/grants?subjectId=carol&includeEnded=yes', mallory).expect(403);
    await get(app, '/v1/audit/grants?entitlementId=ent-pg-orders-read', mallory).expect(403);
    for (const path of [
      '/v1/audit/reconciliations?connectorId=pg-main',
      '/v1/audit/drift?connectorId=pg-main',
      '/v1/audit/access-denials?principalId=mallory',
    ]) {
      await get(app, path, mallory).expect(403);
    }
    const malloryRefusals = 10;
    const aliceRefusals = 1;
    const operatorRefusals = 1;

    // each refusal is an iga.audit.access-denied.v1 event on the audit's own topic ...
    const recorded = await eventually(
      async () => {
        const events: Envelope[] = [];
        await bus.replay({ topics: [topicFor(TOPICS.audit)], handler: async (event) => void events.push(event) });
        const mallorys = events.filter((event) => event.type === 'iga.audit.access-denied.v1' && (event.data as AccessDeniedData).principalId === 'mallory');
        expect(mallorys).toHaveLength(malloryRefusals);
        return mallorys;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(recorded.find((event) => (event.data as AccessDeniedData).objectRef === 'request:req-k4')).toMatchObject({
      actor: { kind: 'user', id: 'mallory' },
      data: { service: 'audit', operation: 'GET /v1/audit/requests/:requestId/timeline', status: 404, roles: ['member'], suppressedSincePrevious: 0 },
    });

    // ... and listed, newest first, for an auditor
    const denials = await eventually(
      async () => {
        const listed = (await get(app, '/v1/audit/access-denials?principalId=mallory', auditor).expect(200)).body.denials as AccessDeniedData[];
        expect(listed).toHaveLength(malloryRefusals);
        return listed;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(denials).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principalId: 'mallory',
          principalKind: 'person',
          service: 'audit',
          operation: 'GET /v1/audit/requests/:requestId/timeline',
          objectRef: 'request:req-k4',
          status: 404,
        }),
        expect.objectContaining({ operation: 'GET /v1/audit/grants', objectRef: 'identity:carol', status: 403 }),
        expect.objectContaining({ operation: 'GET /v1/audit/grants', objectRef: 'entitlement:ent-pg-orders-read', status: 403 }),
        expect.objectContaining({ operation: 'GET /v1/audit/access-denials', status: 403, reason: 'requires one of the roles auditor, security' }),
      ]),
    );
    expect(denials.map((denial) => denial.at)).toEqual([...denials.map((denial) => denial.at)].sort().reverse());
    // every refusal of this spec is in before the restart below compares the read models
    await eventually(
      async () => {
        const all = (await get(app, '/v1/audit/access-denials?service=audit', security).expect(200)).body.denials as AccessDeniedData[];
        expect(all).toHaveLength(malloryRefusals + aliceRefusals + operatorRefusals);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const badFilter = await get(app, '/v1/audit/access-denials?principalId=has%20space&since=yesterday', auditor).expect(400);
    expect(JSON.parse(badFilter.text).errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'principalId' })]));
  });

  it('Given the audit database dropped, When the audit restarts, Then it replays the topics and the rebuilt read models equal the originals', async () => {
    const before = running[0]!;
    const original = await before.app.get(ReadModelStore).snapshot();
    await before.app.close();
    running.shift();
    const connection = await createConnection(mongoDatabaseUrl(database)).asPromise();
    await connection.dropDatabase();
    await connection.close();

    const { app } = await startAudit();

    const report = await app.get(AuditCatchUp).ensureCaughtUp();
    expect(report.replayed).toBe(true);
    await eventually(async () => expect(await app.get(ReadModelStore).snapshot()).toEqual(original), { timeoutMs: 30_000 });
    await get(app, `/v1/audit/grants/${encodeURIComponent(grantId)}/explain`, auditor).expect(200);
    const drift = await get(app, '/v1/audit/drift', auditor).query({ connectorId: 'pg-main' }).expect(200);
    expect(drift.body).toMatchObject({ reportId: 'rpt-k2', findings: [{ eventId: 'k-drift-latest-expired' }, { eventId: 'k-drift-latest-unexpected' }] });
  });
});
