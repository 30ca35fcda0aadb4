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
  });
});
