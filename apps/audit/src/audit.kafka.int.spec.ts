import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { createConnection } from 'mongoose';
import request from 'supertest';
import { EventRegistry, TOPICS, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { TopicName } from '@grantline/contracts';
import { silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { KafkaEventTransport, MESSAGE_BUS, MessagingModule } from '@grantline/messaging-nest';
import { eventually, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { AuditModule } from './audit.module';
import { ReadModelStore } from './persistence/read-model.store';
import { AUDIT_EVENT_TYPES } from './projections/projection';
import { AuditCatchUp } from './projector/audit-catch-up.service';
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

describe('audit service against real Kafka and the real MongoDB-wire server', () => {
  const database = uniqueName('audit_kafka');
  const groupId = uniqueName('audit_group');
  const running: { app: INestApplication; transport: KafkaEventTransport }[] = [];

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

    const explain = await request(app.getHttpServer()).get(`/v1/audit/grants/${encodeURIComponent(grantId)}/explain`).expect(200);
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

    const timeline = await request(app.getHttpServer()).get('/v1/audit/requests/req-k1/timeline').expect(200);
    expect(timeline.body.entries).toHaveLength(12);
    expect(timeline.body.status).toBe('ended');

    const held = await request(app.getHttpServer()).get('/v1/audit/grants').query({ subjectId: 'svc-req-k2' }).expect(200);
    expect(held.body).toEqual({ grants: [] });
    const history = await request(app.getHttpServer()).get('/v1/audit/grants').query({ subjectId: 'svc-req-k2', includeEnded: 'true' }).expect(200);
    expect(history.body.grants).toEqual([expect.objectContaining({ status: 'revoked', revokeReason: 'expiry', entitlementId: 'ent-pg-orders-read' })]);
    const byEntitlement = await request(app.getHttpServer()).get('/v1/audit/grants').query({ entitlementId: 'ent-pg-orders-read', includeEnded: 'true' }).expect(200);
    expect(byEntitlement.body.grants).toHaveLength(3);

    const unknownGrant = await request(app.getHttpServer()).get('/v1/audit/grants/no-such-grant/explain').expect(404);
    expect(unknownGrant.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(unknownGrant.text)).toMatchObject({ status: 404, title: 'Not found', detail: 'Unknown grant no-such-grant' });
    await request(app.getHttpServer()).get('/v1/audit/requests/no-such-request/timeline').expect(404);
    const noFilter = await request(app.getHttpServer()).get('/v1/audit/grants').expect(400);
    expect(noFilter.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(noFilter.text)).toMatchObject({ status: 400, errors: [{ field: 'subjectId', message: 'Required: subjectId or entitlementId' }] });
    const badFlag = await request(app.getHttpServer()).get('/v1/audit/grants').query({ subjectId: 'alice', includeEnded: 'yes' }).expect(400);
    expect(JSON.parse(badFlag.text).errors).toEqual([expect.objectContaining({ field: 'includeEnded' })]);

    // Who had access at a past instant: the three grants were live from 09:06 until 17:01 on 2025-03-01.
    const asOf = async (instant: string): Promise<{ requestId: string }[]> =>
      ((await request(app.getHttpServer()).get('/v1/audit/grants').query({ entitlementId: 'ent-pg-orders-read', asOf: instant }).expect(200)).body
        .grants as { requestId: string }[]).sort((a, b) => a.requestId.localeCompare(b.requestId));
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
      const refused = await request(app.getHttpServer()).get('/v1/audit/grants').query({ subjectId: 'alice', ...query }).expect(400);
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
      reconciliationCompleted({ reportId: 'rpt-k2', connectorId: 'pg-main', observedAt: latest, assignments: 5, grantsExpected: 3, drift: { ...noDrift, unexpectedInTarget: 1, expiredButPresent: 1 } }, 'k-completed-2'),
      latestUnexpected,
      olderUnexpected,
      reconciliationCompleted({ reportId: 'rpt-k1', connectorId: 'pg-main', observedAt: older, assignments: 4, grantsExpected: 3, drift: { ...noDrift, unexpectedInTarget: 1 } }, 'k-completed-1'),
      latestExpired,
      // a producer retry
      latestUnexpected,
      // a reconciliation still arriving: a finding without its completion
      driftFinding({ eventId: 'k-drift-arriving', connectorId: 'pg-main', kind: 'unexpected_in_target', targetAccount: 'trent', externalRef: 'orders_admin', detectedAt: arriving, correlationId: 'rpt-k3' }),
      driftFinding({ eventId: 'k-drift-ldap', connectorId: 'ldap-corp', kind: 'unexpected_in_target', targetAccount: 'mallory', externalRef: 'cn=admins', detectedAt: latest, correlationId: 'rpt-k9' }),
    ];
    for (const event of published) await bus.publisher.publish(grantsTopic, [event]);

    await transport.whenCaughtUp(60_000);

    const listed = await request(app.getHttpServer()).get('/v1/audit/reconciliations').query({ connectorId: 'pg-main' }).expect(200);
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

    const drift = await request(app.getHttpServer()).get('/v1/audit/drift').query({ connectorId: 'pg-main' }).expect(200);
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
        { eventId: 'k-drift-latest-unexpected', kind: 'unexpected_in_target', systemId: 'sys-pg-main', targetAccount: 'eve', externalRef: 'orders_write', remediation: 'report_only' },
      ],
    });

    // a finding about a grant is also part of its request's story; the completion belongs to no request
    const timeline = await request(app.getHttpServer()).get('/v1/audit/requests/req-k1/timeline').expect(200);
    expect(timeline.body.entries.at(-1)).toMatchObject({ eventId: 'k-drift-latest-expired', type: 'iga.grant.drift-detected.v1', grantId });
    await request(app.getHttpServer()).get('/v1/audit/requests/rpt-k2/timeline').expect(404);

    for (const connectorId of ['ldap-corp', 'no-such-connector']) {
      const none = await request(app.getHttpServer()).get('/v1/audit/drift').query({ connectorId }).expect(404);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(none.text)).toMatchObject({ status: 404, detail: `No completed reconciliation of connector ${connectorId}` });
    }
    for (const path of ['/v1/audit/reconciliations', '/v1/audit/drift']) {
      for (const query of [{}, { connectorId: 'has space' }]) {
        const refused = await request(app.getHttpServer()).get(path).query(query).expect(400);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(refused.text).errors).toEqual([expect.objectContaining({ field: 'connectorId' })]);
      }
    }
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
    await request(app.getHttpServer()).get(`/v1/audit/grants/${encodeURIComponent(grantId)}/explain`).expect(200);
    const drift = await request(app.getHttpServer()).get('/v1/audit/drift').query({ connectorId: 'pg-main' }).expect(200);
    expect(drift.body).toMatchObject({ reportId: 'rpt-k2', findings: [{ eventId: 'k-drift-latest-expired' }, { eventId: 'k-drift-latest-unexpected' }] });
  });
});
