// The intake against the real Kafka and MongoDB-wire store from jest's global setup: the whole app as main.ts runs it
// (service kit, real topics), driven over HTTP with dev-issuer tokens, read back from the log with MessageBus.replay.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import request from 'supertest';
import { GrantRevoked, ItsmRequestReceived, ItsmServiceNowItemReceived, RequestAccessDenied, TOPICS, registry } from '@grantline/contracts';
import type { Envelope, ItsmRequestReceivedData, ItsmStatusChangedData, RequestSubmittedData } from '@grantline/contracts';
import { DEV_ISSUER } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { MessagingModule } from '@grantline/messaging-nest';
import { ApiAuthModule, startConsumerGroups, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey } from '@grantline/http-edge';
import { CatalogService } from './catalog/catalog.service';
import { IntakeModule } from './intake.module';
import { requestIdOfTicket } from './itsm/itsm-request.mapper';
import { RequestStatusStore } from './status/request-status.store';
import { submitted as submittedEvent } from './testing/lifecycle.builders';

const { kafkaBrokers } = infraEndpoints();
const run = uniqueName('intake');
const alice = `alice_${run}`;
const SET_ENV = { MONGO_DB: uniqueName('intake_spec'), PORT: '0', AUTH_MODE: 'dev', LOG_LEVEL: 'error' };

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('intake on real Kafka and MongoDB', () => {
  let service: RunningService;
  let bus: KafkaMessageBus;
  let key: DevIssuerKey;
  let issuerDir: string;
  const previousEnv: Record<string, string | undefined> = {};

  const token = (
    subject = alice,
    overrides: { audience?: string; issuer?: string; ttlSeconds?: number; now?: Date; roles?: string[]; workload?: boolean } = {},
  ): Promise<string> =>
    mintDevToken(key, {
      subject,
      audience: overrides.audience ?? 'grantline',
      issuer: overrides.issuer ?? DEV_ISSUER,
      ttlSeconds: overrides.ttlSeconds ?? 600,
      ...(overrides.now ? { now: overrides.now } : {}),
      ...(overrides.roles ? { roles: overrides.roles } : {}),
      ...(overrides.workload ? { workload: true } : {}),
    });
  const readTopic = async (topic: string): Promise<Envelope[]> => {
    const events: Envelope[] = [];
    await bus.replay({ topics: [topic], handler: async (event) => void events.push(event) });
    return events;
  };
  const eventsBy = async (actorId: string): Promise<Envelope[]> => (await readTopic(TOPICS.requests)).filter((event) => event.actor.id === actorId);
  const submission = (overrides: Record<string, unknown> = {}) => ({
    subject: { id: alice, kind: 'human' },
    entitlementIds: ['orders-staging-read'],
    justification: 'investigate the staging checkout bug',
    duration: 'PT8H',
    ...overrides,
  });

  /** Until the group has its partitions, a message may land before its start offset: probe until one is answered. */
  const consumerIsLive = async (): Promise<void> => {
    const probes: string[] = [];
    await eventually(
      async () => {
        const id = `PROBE-${run}-${probes.length}`;
        probes.push(id);
        const data = {
          ticket: { system: 'other', id },
          requesterId: 'probe',
          subject: { id: 'probe', kind: 'human' },
          items: { entitlementIds: ['ghost'] },
          justification: 'probe',
          duration: 'PT1H',
        };
        await bus.publisher.publish(TOPICS.itsmInbound, [
          registry.encode(ItsmRequestReceived, data as ItsmRequestReceivedData, {
            id: `probe-${id}`,
            source: 'spec',
            time: new Date().toISOString(),
            subject: id,
            correlationid: id,
            actor: { kind: 'service', id: 'spec' },
          }),
        ]);
        const answered = (await readTopic(TOPICS.itsmStatus)).some((event) => probes.includes((event.data as ItsmStatusChangedData).ticket.id));
        if (!answered) throw new Error(`none of ${probes.length} probes answered yet`);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  };

  /** The same for the main group (the read model): a probe submission must reach the read model. */
  const mainGroupIsLive = async (): Promise<void> => {
    const probes: string[] = [];
    const statuses = service.app.get(RequestStatusStore);
    await eventually(
      async () => {
        const requestId = `req-probe-${run}-${probes.length}`;
        probes.push(requestId);
        await bus.publisher.publish(TOPICS.requests, [submittedEvent({ requestId, requesterId: 'probe', subject: { id: 'probe', kind: 'human' } })]);
        const seen = await Promise.all(probes.map((id) => statuses.get(id)));
        if (!seen.some((view) => view !== undefined)) throw new Error(`none of ${probes.length} probes projected yet`);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  };

  beforeAll(async () => {
    issuerDir = mkdtempSync(join(tmpdir(), 'intake-dev-issuer-'));
    for (const [name, value] of Object.entries({ ...SET_ENV, DEV_ISSUER_DIR: issuerDir })) {
      previousEnv[name] = process.env[name];
      process.env[name] = value;
    }
    key = await ensureDevIssuerKey(issuerDir);
    // The kit reads its environment when the module is declared: import it only now.
    const { AppModule } = await import('./app.module');
    // The topics are shared with every other spec: new groups starting at the end skip their history. Both of them:
    // the main group, and the ITSM group beside it (`<group>.itsm`), started as main.ts starts it.
    const options = { serviceName: 'intake', groupId: uniqueName('intake_group'), openApi: false, fromBeginning: false };
    service = await startService(AppModule, options);
    await startConsumerGroups(service, options);
    bus = new KafkaMessageBus({ clientId: uniqueName('intake_reader'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
    // Requests over ITSM are authorised like requests by the person a ticket names: alice is a known person.
    const source = `Bearer ${await token(`hr_setup_${run}`, { roles: ['identity-source'], workload: true })}`;
    await request(service.app.getHttpServer())
      .put(`/v1/identities/${alice}`)
      .set('Authorization', source)
      .send({ kind: 'human', displayName: 'Alice', managerId: `maria_${run}` })
      .expect(202);
    await consumerIsLive();
    await mainGroupIsLive();
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.disconnect();
    for (const [name, value] of Object.entries(previousEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('publishes the catalogue at start, with an id derived from its digest', async () => {
    const catalog = service.app.get(CatalogService);
    const published = (await readTopic(TOPICS.catalog)).filter((event) => event.id === catalog.eventId());
    expect(published.length).toBeGreaterThanOrEqual(1);
    expect(published[0]).toMatchObject({
      type: 'iga.catalog.published.v3',
      data: { digest: catalog.catalog.digest },
      actor: { kind: 'service', id: 'intake' },
    });
  });

  it('serves the OpenAPI document built from the request schemas at /docs', async () => {
    const document = await request(service.app.getHttpServer()).get('/docs-json').expect(200);
    expect(document.body).toMatchObject({ openapi: '3.1.0', info: { title: 'Grantline intake' } });
    expect(document.body.paths['/v1/requests'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('justification');
    await request(service.app.getHttpServer()).get('/docs').expect(200);
  });

  it('answers 202 once the submission is on iga.requests.v1, with the token subject as actor and requester', async () => {
    const response = await request(service.app.getHttpServer())
      .post('/v1/requests')
      .set('Authorization', `Bearer ${await token()}`)
      .send(submission())
      .expect(202);
    const { requestId, eventId } = response.body as { requestId: string; eventId: string };
    const events = (await readTopic(TOPICS.requests)).filter((event) => (event.data as { requestId?: string }).requestId === requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: eventId,
      type: 'iga.request.submitted.v2',
      subject: requestId,
      correlationid: requestId,
      actor: { kind: 'user', id: alice },
      data: { requesterId: alice, channel: 'api', items: { entitlementIds: ['orders-staging-read'] }, duration: 'PT8H' },
    });

    const view = await request(service.app.getHttpServer())
      .get(`/v1/requests/${requestId}`)
      .set('Authorization', `Bearer ${await token()}`)
      .expect(200);
    expect(view.body).toMatchObject({ requestId, status: 'submitted', timeline: [expect.objectContaining({ eventId, type: 'iga.request.submitted.v2' })] });
  });

  it.each([
    ['a missing subject', { subject: undefined }, 'subject'],
    ['an unknown entitlement', { entitlementIds: ['no-such-role'] }, 'entitlementIds.0'],
    ['a negative duration', { duration: '-PT1H' }, 'duration'],
    ['a 1 MB justification', { justification: 'x'.repeat(1024 * 1024) }, 'justification'],
  ])('answers 400 problem+json naming the field for %s, and writes nothing', async (_case, overrides, field) => {
    const actor = `${alice}_${field.replace(/\W/g, '')}`;
    const response = await request(service.app.getHttpServer())
      .post('/v1/requests')
      .set('Authorization', `Bearer ${await token(actor)}`)
      .send(submission(overrides))
      .expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: expect.stringContaining('invalid-request'), status: 400, errors: [expect.objectContaining({ field })] });
    // The log holds everything acknowledged before the answer; nothing from this actor is there.
    expect(await eventsBy(actor)).toEqual([]);
  });

  it('replays the original answer for the same Idempotency-Key and body, 422 for another body; one event only', async () => {
    const idempotencyKey = `key-${run}`;
    const bearer = `Bearer ${await token()}`;
    const first = await request(service.app.getHttpServer())
      .post('/v1/requests')
      .set('Authorization', bearer)
      .set('Idempotency-Key', idempotencyKey)
      .send(submission())
      .expect(202);
    const again = await request(service.app.getHttpServer())
      .post('/v1/requests')
      .set('Authorization', bearer)
      .set('Idempotency-Key', idempotencyKey)
      .send(submission())
      .expect(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await request(service.app.getHttpServer())
      .post('/v1/requests')
      .set('Authorization', bearer)
      .set('Idempotency-Key', idempotencyKey)
      .send(submission({ justification: 'something else entirely' }))
      .expect(422);
    expect(other.body).toMatchObject({ status: 422, errors: [{ field: 'Idempotency-Key' }] });
    const requestId = (first.body as { requestId: string }).requestId;
    expect((await readTopic(TOPICS.requests)).filter((event) => (event.data as { requestId?: string }).requestId === requestId)).toHaveLength(1);
  });

  it('is ready with both consumer groups running: the main one and the ITSM one', async () => {
    const ready = await request(service.app.getHttpServer()).get('/health/ready').expect(200);
    const groups = Object.keys((ready.body as { details: Record<string, unknown> }).details).filter((name) => name.startsWith('consumer group'));
    expect(groups).toEqual([expect.stringMatching(/^consumer group intake_group.*\.itsm$/)]);
    expect((ready.body as { details: Record<string, { status: string }> }).details['kafka']?.status).toBe('up');
  });

  it('answers 202 and the GET right after while the read model is stuck, lets the beneficiary revoke the grant, and translates an ITSM ticket meanwhile', async () => {
    const statuses = service.app.get(RequestStatusStore);
    const project = statuses.applyBatch.bind(statuses);
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    // The main group's next batch waits here: the read model does not move until released.
    const held = jest.spyOn(statuses, 'applyBatch').mockImplementation(async (events) => {
      await stuck;
      return project(events);
    });
    let requestId = '';
    try {
      const server = service.app.getHttpServer();
      const bearer = `Bearer ${await token()}`;
      const created = await request(server)
        .post('/v1/requests')
        .set('Authorization', bearer)
        .set('Idempotency-Key', `stuck-${run}`)
        .send(submission())
        .expect(202);
      const { eventId } = created.body as { requestId: string; eventId: string };
      requestId = (created.body as { requestId: string }).requestId;
      await eventually(async () => expect(held).toHaveBeenCalled(), { timeoutMs: 30_000, intervalMs: 200 });
      expect(await statuses.get(requestId)).toBeUndefined();
      // This instance answers from what it accepted, under the same rules: the requester sees it, a stranger does not.
      const view = await request(server).get(`/v1/requests/${requestId}`).set('Authorization', bearer).expect(200);
      expect(view.body).toMatchObject({ requestId, status: 'submitted', requesterId: alice, timeline: [expect.objectContaining({ eventId })] });
      await request(server)
        .get(`/v1/requests/${requestId}`)
        .set('Authorization', `Bearer ${await token(`stranger_${run}`)}`)
        .expect(404);
      // Its grant, live in the target before the read model attached it, can be revoked by its beneficiary at once:
      // the grant id names the request. A stranger is told it does not exist.
      const grantId = `${requestId}:orders-staging-read`;
      await request(server)
        .post(`/v1/grants/${grantId}/revoke`)
        .set('Authorization', `Bearer ${await token(`stranger_${run}`)}`)
        .send({ reason: 'not mine to revoke' })
        .expect(404);
      const revoked = await request(server).post(`/v1/grants/${grantId}/revoke`).set('Authorization', bearer).send({ reason: 'done with it' }).expect(202);
      expect(revoked.body).toMatchObject({ grantId, status: 'revocation_requested' });
      await request(server)
        .post(`/v1/grants/${requestId}:orders-prod-write/revoke`)
        .set('Authorization', bearer)
        .send({ reason: 'never asked for' })
        .expect(404);

      const ticket = { system: 'jira' as const, id: `STUCK-${run}-1` };
      await bus.publisher.publish(TOPICS.itsmInbound, [
        registry.encode(
          ItsmRequestReceived,
          {
            ticket,
            requesterId: alice,
            subject: { id: alice, kind: 'human' },
            items: { entitlementIds: ['orders-staging-read'] },
            justification: 'ticketed while the read model is behind',
            duration: 'PT4H',
          },
          {
            id: `stuck-${run}`,
            source: 'spec/itsm-bridge',
            time: new Date().toISOString(),
            subject: ticket.id,
            correlationid: ticket.id,
            actor: { kind: 'service', id: 'itsm-bridge' },
          },
        ),
      ]);
      const translated = await eventually(
        async () => {
          const found = (await readTopic(TOPICS.requests)).find((event) => (event.data as RequestSubmittedData).requestId === requestIdOfTicket(ticket));
          if (!found) throw new Error('the ticket is not a request yet');
          return found;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(translated).toMatchObject({ data: { channel: 'itsm', ticket } });
      expect(await statuses.get(requestId)).toBeUndefined();
    } finally {
      release();
      held.mockRestore();
    }
    // Released, the read model catches up from the log alone.
    await eventually(async () => expect(await statuses.get(requestId)).toMatchObject({ requestId, requesterId: alice }), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });

  it('answers 401 problem+json for a missing, expired, wrong-audience or wrong-issuer token', async () => {
    const server = service.app.getHttpServer();
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const bearer of [
      undefined,
      await token(alice, { now: hourAgo, ttlSeconds: 60 }),
      await token(alice, { audience: 'other' }),
      await token(alice, { issuer: 'https://evil.example' }),
    ]) {
      const call = request(server).post('/v1/requests').send(submission());
      const response = await (bearer === undefined ? call : call.set('Authorization', `Bearer ${bearer}`)).expect(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('turns an inbound ITSM ticket into a request, and rejects a bad one on the status topic with reasons', async () => {
    const meta = (id: string) => ({
      id,
      source: 'spec/itsm-bridge',
      time: new Date().toISOString(),
      subject: id,
      correlationid: id,
      actor: { kind: 'service' as const, id: 'itsm-bridge' },
    });
    const good: ItsmRequestReceivedData = {
      ticket: { system: 'jira', id: `OPS-${run}` },
      requesterId: alice,
      subject: { id: alice, kind: 'human' },
      items: { entitlementIds: ['orders-staging-read'] },
      justification: 'ticketed access',
      duration: 'PT4H',
    };
    const { duration: _duration, ...noDuration } = good;
    const bad: ItsmRequestReceivedData = { ...noDuration, ticket: { system: 'jira', id: `BAD-${run}` }, items: { entitlementIds: ['ghost'] } };
    await bus.publisher.publish(TOPICS.itsmInbound, [
      registry.encode(ItsmRequestReceived, good, meta(`good-${run}`)),
      registry.encode(ItsmRequestReceived, bad, meta(`bad-${run}`)),
    ]);

    const statuses = await eventually(
      async () => {
        const mine = (await readTopic(TOPICS.itsmStatus)).map((event) => event.data as ItsmStatusChangedData).filter((data) => data.ticket.id.endsWith(run));
        if (!mine.some((d) => d.status === 'rejected') || !mine.some((d) => d.status === 'received'))
          throw new Error(`statuses so far: ${JSON.stringify(mine)}`);
        return mine;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(statuses.find((d) => d.status === 'rejected')).toMatchObject({
      ticket: bad.ticket,
      reasons: expect.arrayContaining([expect.stringContaining('entitlementIds.0'), expect.stringContaining('duration')]),
    });
    const received = statuses.find((d) => d.status === 'received');
    expect(received?.ticket).toEqual(good.ticket);
    const submitted = (await readTopic(TOPICS.requests)).find((event) => (event.data as RequestSubmittedData).requestId === received?.requestId);
    expect(submitted).toMatchObject({ data: { channel: 'itsm', ticket: good.ticket, requesterId: alice } });
  });

  it('maps a ServiceNow catalog item published on the inbound topic (rescued from the dead-letter topic) into a request', async () => {
    const number = `RITM${String(Date.now()).slice(-10)}`;
    const item = {
      sys_id: randomBytes(16).toString('hex'),
      number,
      requested_for: { value: alice, display_value: 'Alice' },
      opened_by: alice,
      variables: { entitlements: 'orders-staging-read', justification: 'release verification', duration: '8' },
    };
    // Not the generic contract shape: the transport dead-letters it, the intake maps it from there.
    const raw = {
      specversion: '1.0',
      id: `sn-${run}`,
      source: 'spec/servicenow',
      type: 'iga.itsm.request-received.v1',
      time: new Date().toISOString(),
      subject: number,
      correlationid: number,
      actor: { kind: 'service', id: 'servicenow' },
      data: item,
    };
    await bus.publisher.publish(TOPICS.itsmInbound, [raw as Envelope]);
    const received = await eventually(
      async () => {
        const status = (await readTopic(TOPICS.itsmStatus)).map((event) => event.data as ItsmStatusChangedData).find((data) => data.ticket.id === number);
        if (!status) throw new Error(`no status for ${number} yet`);
        return status;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(received).toMatchObject({ ticket: { system: 'servicenow', id: number }, status: 'received' });
    const submitted = (await readTopic(TOPICS.requests)).find((event) => (event.data as RequestSubmittedData).requestId === received.requestId);
    expect(submitted).toMatchObject({ data: { channel: 'itsm', duration: 'PT8H', subject: { id: alice, kind: 'human' } } });
  });

  it('given a ServiceNow item as its own event type, then a valid one becomes a request and one that breaks the mapping is rejected with the field', async () => {
    const stamp = String(Date.now()).slice(-9);
    const item = (number: string, variables: Record<string, string>) => ({
      sys_id: randomBytes(16).toString('hex'),
      number,
      requested_for: { value: alice, display_value: 'Alice' },
      opened_by: alice,
      variables,
    });
    const publish = async (data: ReturnType<typeof item>): Promise<void> => {
      await bus.publisher.publish(TOPICS.itsmInbound, [
        registry.encode(ItsmServiceNowItemReceived, data, {
          id: `snt-${data.number}`,
          source: 'spec/servicenow',
          time: new Date().toISOString(),
          subject: data.number,
          correlationid: data.number,
          actor: { kind: 'service', id: 'servicenow' },
        }),
      ]);
    };
    const good = `RITM1${stamp}`;
    const bad = `RITM2${stamp}`;
    await publish(item(good, { entitlements: 'orders-staging-read', justification: 'release verification', duration: 'PT4H' }));
    await publish(item(bad, { entitlements: 'orders-staging-read', justification: 'release verification', duration: 'soon' }));
    const statuses = await eventually(
      async () => {
        const all = (await readTopic(TOPICS.itsmStatus)).map((event) => event.data as ItsmStatusChangedData);
        const found = [good, bad].map((number) => all.find((data) => data.ticket.id === number));
        if (found.some((status) => status === undefined)) throw new Error('not every ticket answered yet');
        return found as ItsmStatusChangedData[];
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(statuses[0]).toMatchObject({ ticket: { system: 'servicenow', id: good }, status: 'received' });
    expect(statuses[1]).toMatchObject({ ticket: { system: 'servicenow', id: bad }, status: 'rejected', reasons: [expect.stringContaining('duration')] });
    const submitted = (await readTopic(TOPICS.requests)).find((event) => (event.data as RequestSubmittedData).requestId === statuses[0]!.requestId);
    expect(submitted).toMatchObject({ data: { channel: 'itsm', duration: 'PT4H', ticket: { system: 'servicenow', id: good } } });
  });

  it('lets the requester withdraw (event on the log), but not a stranger (404, as for an unknown request, and the attempt recorded)', async () => {
    const server = service.app.getHttpServer();
    const created = await request(server)
      .post('/v1/requests')
      .set('Authorization', `Bearer ${await token()}`)
      .send(submission())
      .expect(202);
    const { requestId } = created.body as { requestId: string };
    const denied = await request(server)
      .post(`/v1/requests/${requestId}/withdraw`)
      .set('Authorization', `Bearer ${await token(`mallory_${run}`)}`)
      .send({})
      .expect(404);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(denied.body).toMatchObject({ detail: `No request ${requestId}` });
    const recorded = await eventually(async () => {
      const found = (await readTopic(TOPICS.requests)).find((event) => event.type === 'iga.request.access-denied.v1' && event.subject === `mallory_${run}`);
      if (!found) throw new Error('the refused attempt is not on the log yet');
      return found;
    });
    expect(recorded).toMatchObject({
      data: { service: 'intake', operation: 'POST /v1/requests/:id/withdraw', objectRef: `request:${requestId}`, status: 404 },
    });
    const accepted = await request(server)
      .post(`/v1/requests/${requestId}/withdraw`)
      .set('Authorization', `Bearer ${await token()}`)
      .send({ reason: 'fixed without it' })
      .expect(202);
    const events = (await readTopic(TOPICS.requests)).filter((event) => (event.data as { requestId?: string }).requestId === requestId);
    // The refusal wrote nothing about the request: only its record, keyed by the principal.
    expect(events.map((event) => event.type)).toEqual(['iga.request.submitted.v2', 'iga.request.withdrawn.v1']);
    expect(events[1]).toMatchObject({
      id: (accepted.body as { eventId: string }).eventId,
      actor: { kind: 'user', id: alice },
      data: { withdrawnBy: alice, reason: 'fixed without it' },
    });
  });

  it('answers a revocation ticket "revoked" only once the grant is reported revoked', async () => {
    const server = service.app.getHttpServer();
    const grantId = `req-${run}:orders-staging-read`;
    const ticket = { system: 'servicenow' as const, id: `CHG${String(Date.now()).slice(-8)}` };
    // A grant the intake has not seen: only security may revoke it (anyone else is told it does not exist).
    await request(server)
      .post(`/v1/grants/${grantId}/revoke`)
      .set('Authorization', `Bearer ${await token()}`)
      .send({ reason: 'ticket asks for removal', ticket })
      .expect(404);
    const security = `sec_${run}`;
    const response = await request(server)
      .post(`/v1/grants/${grantId}/revoke`)
      .set('Authorization', `Bearer ${await token(security, { roles: ['security'] })}`)
      .send({ reason: 'ticket asks for removal', ticket })
      .expect(202);
    const { revocationId } = response.body as { revocationId: string };
    const revocation = (await readTopic(TOPICS.requests)).find((event) => (event.data as { revocationId?: string }).revocationId === revocationId);
    expect(revocation).toMatchObject({ type: 'iga.revocation.requested.v1', actor: { kind: 'user', id: security }, data: { grantId, requestedBy: security } });
    const statusFor = async (): Promise<ItsmStatusChangedData[]> =>
      (await readTopic(TOPICS.itsmStatus)).map((event) => event.data as ItsmStatusChangedData).filter((data) => data.ticket.id === ticket.id);
    expect(await statusFor()).toEqual([]);

    // When provisioning reports the grant revoked (the spec plays provisioning here)
    await bus.publisher.publish(TOPICS.grants, [
      registry.encode(
        GrantRevoked,
        { grantId, reason: 'revocation', revokedAt: new Date().toISOString() },
        {
          id: `revoked-${run}`,
          source: 'spec/provisioning',
          time: new Date().toISOString(),
          subject: grantId,
          correlationid: grantId,
          actor: { kind: 'service', id: 'provisioning' },
        },
      ),
    ]);
    const statuses = await eventually(
      async () => {
        const found = await statusFor();
        if (found.length === 0) throw new Error('no status for the ticket yet');
        return found;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(statuses).toEqual([expect.objectContaining({ ticket, status: 'revoked', reasons: [expect.stringContaining(grantId)] })]);
  });

  it('records identities and offboards a leaver with the machine identities they own', async () => {
    const server = service.app.getHttpServer();
    const bearer = `Bearer ${await token(`hr_${run}`, { roles: ['identity-source'], workload: true })}`;
    const owner = `olivia_${run}`;
    const pipeline = `ci_${run}`;
    await request(server)
      .put(`/v1/identities/${owner}`)
      .set('Authorization', bearer)
      .send({ kind: 'human', displayName: 'Olivia', managerId: 'maria' })
      .expect(202);
    await request(server)
      .put(`/v1/identities/${pipeline}`)
      .set('Authorization', bearer)
      .send({ kind: 'ci_pipeline', displayName: 'Deployer', ownerId: owner })
      .expect(202);
    const orphan = await request(server)
      .put(`/v1/identities/x_${run}`)
      .set('Authorization', bearer)
      .send({ kind: 'service_account', displayName: 'No owner' })
      .expect(400);
    expect(orphan.body).toMatchObject({ errors: [{ field: 'ownerId' }] });

    const offboarded = await request(server).post(`/v1/identities/${owner}/offboard`).set('Authorization', bearer).send({ reason: 'leaver' }).expect(202);
    expect(offboarded.body).toMatchObject({ ownedIdentityIds: [pipeline] });
    // Ordered per identity (its partition), not across identities. The owned pipeline's cascade (ADR 0022: a transfer
    // case, its credentials flagged for rotation) follows the offboarding asynchronously, so wait for it.
    const identityEvents = await eventually(
      async () => {
        const events = await readTopic(TOPICS.identities);
        if (events.filter((event) => event.subject === pipeline).length < 3) throw new Error('the owned pipeline has no cascade yet');
        return events;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const ofOwner = identityEvents.filter((event) => event.subject === owner);
    expect(ofOwner.map((event) => event.type)).toEqual(['iga.identity.upserted.v1', 'iga.identity.offboarded.v1']);
    expect(identityEvents.filter((event) => event.subject === pipeline)).toEqual([
      expect.objectContaining({ type: 'iga.identity.upserted.v1', data: expect.objectContaining({ identity: expect.objectContaining({ ownerId: owner }) }) }),
      expect.objectContaining({
        type: 'iga.identity.ownership-transfer-opened.v1',
        data: expect.objectContaining({ previousOwnerId: owner, reason: 'owner_offboarded' }),
      }),
      expect.objectContaining({ type: 'iga.identity.credentials-rotation-flagged.v1', data: expect.objectContaining({ reason: 'owner_offboarded' }) }),
    ]);
    expect(ofOwner[1]).toMatchObject({
      actor: { kind: 'service', id: `hr_${run}` },
      data: { identityId: owner, kind: 'human', reason: 'leaver', ownedIdentityIds: [pipeline] },
    });
  });

  it('changes the owner of a machine identity only when the proposed owner accepts a transfer its owner proposed', async () => {
    const server = service.app.getHttpServer();
    const source = `Bearer ${await token(`hr_otr_${run}`, { roles: ['identity-source'], workload: true })}`;
    const [olivia, peter, pipeline] = [`olivia_${run}`, `peter_${run}`, `deployer_${run}`];
    await request(server).put(`/v1/identities/${olivia}`).set('Authorization', source).send({ kind: 'human', displayName: 'Olivia' }).expect(202);
    await request(server).put(`/v1/identities/${peter}`).set('Authorization', source).send({ kind: 'human', displayName: 'Peter' }).expect(202);
    // A member registers a machine identity she owns herself.
    await request(server)
      .put(`/v1/identities/${pipeline}`)
      .set('Authorization', `Bearer ${await token(olivia)}`)
      .send({ kind: 'ci_pipeline', displayName: 'Deployer', ownerId: olivia })
      .expect(202);
    // Nobody else may propose, nor make themselves owner by re-registering it.
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers`)
      .set('Authorization', `Bearer ${await token(`mallory_${run}`)}`)
      .send({ newOwnerId: `mallory_${run}`, reason: 'mine now' })
      .expect(403);
    await request(server)
      .put(`/v1/identities/${pipeline}`)
      .set('Authorization', `Bearer ${await token(peter)}`)
      .send({ kind: 'ci_pipeline', displayName: 'Deployer', ownerId: peter })
      .expect(403);
    // A machine identity is owned by a person.
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers`)
      .set('Authorization', `Bearer ${await token(olivia)}`)
      .send({ newOwnerId: pipeline, reason: 'self-owned' })
      .expect(409);
    const proposed = await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers`)
      .set('Authorization', `Bearer ${await token(olivia)}`)
      .send({ newOwnerId: peter, reason: 'olivia moves to payments' })
      .expect(202);
    const { transferId } = proposed.body as { transferId: string };
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers/${transferId}/accept`)
      .set('Authorization', `Bearer ${await token(`mallory_${run}`)}`)
      .send({})
      .expect(404);
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers/${transferId}/accept`)
      .set('Authorization', `Bearer ${await token(olivia)}`)
      .send({})
      .expect(403);
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers/${transferId}/accept`)
      .set('Authorization', `Bearer ${await token(peter)}`)
      .send({ comment: 'I run the release now' })
      .expect(202);
    await request(server)
      .post(`/v1/identities/${pipeline}/owner-transfers/${transferId}/accept`)
      .set('Authorization', `Bearer ${await token(peter)}`)
      .send({})
      .expect(409);
    const ofPipeline = (await readTopic(TOPICS.identities)).filter((event) => event.subject === pipeline);
    expect(ofPipeline.map((event) => event.type)).toEqual([
      'iga.identity.upserted.v1',
      'iga.identity.owner-transfer-proposed.v1',
      'iga.identity.owner-changed.v1',
    ]);
    expect(ofPipeline[1]).toMatchObject({
      actor: { kind: 'user', id: olivia },
      data: { transferId, currentOwnerId: olivia, proposedOwnerId: peter, proposedBy: olivia },
    });
    expect(ofPipeline[2]).toMatchObject({
      actor: { kind: 'user', id: peter },
      data: { identityId: pipeline, previousOwnerId: olivia, newOwnerId: peter, reason: 'transfer', changedBy: peter },
    });
    // Peter now owns it: he may rename it, Olivia may not.
    await request(server)
      .put(`/v1/identities/${pipeline}`)
      .set('Authorization', `Bearer ${await token(olivia)}`)
      .send({ kind: 'ci_pipeline', displayName: 'Mine', ownerId: olivia })
      .expect(403);
    await request(server)
      .put(`/v1/identities/${pipeline}`)
      .set('Authorization', `Bearer ${await token(peter)}`)
      .send({ kind: 'ci_pipeline', displayName: 'Release pipeline', ownerId: peter })
      .expect(202);
  });

  describe('a second instance, with a memory of its own and the same key store', () => {
    let secondApp: INestApplication;
    let secondBus: KafkaMessageBus;

    beforeAll(async () => {
      secondBus = new KafkaMessageBus({ clientId: uniqueName('intake_second'), brokers: kafkaBrokers, registry, logger: silentLogger });
      @Module({
        imports: [
          MongooseModule.forRoot(mongoDatabaseUrl(SET_ENV.MONGO_DB), { serverSelectionTimeoutMS: 5_000 }),
          MessagingModule.forRoot({ clientId: 'intake-second', registry, bus: secondBus }),
          ApiAuthModule.forRoot({ serviceName: 'intake', deniedEvent: RequestAccessDenied }),
          IntakeModule,
        ],
      })
      class SecondIntakeModule {}
      secondApp = await NestFactory.create(SecondIntakeModule, { logger: false });
      await secondApp.init();
    });

    afterAll(async () => {
      await secondApp?.close();
    });

    it('refuses a key reused with another body (422) before publishing anything, and replays the first answer for the same body', async () => {
      const idempotencyKey = `reused-${run}`;
      const actor = `${alice}_reuser`;
      const bearer = `Bearer ${await token(actor)}`;
      const first = await request(service.app.getHttpServer())
        .post('/v1/requests')
        .set('Authorization', bearer)
        .set('Idempotency-Key', idempotencyKey)
        .send(submission())
        .expect(202);
      const { requestId, eventId } = first.body as { requestId: string; eventId: string };
      const other = await request(secondApp.getHttpServer())
        .post('/v1/requests')
        .set('Authorization', bearer)
        .set('Idempotency-Key', idempotencyKey)
        .send(submission({ justification: 'a different request under the same key', duration: 'PT1H' }))
        .expect(422);
      expect(other.body).toMatchObject({ status: 422, type: expect.stringContaining('idempotency-key-reused'), errors: [{ field: 'Idempotency-Key' }] });
      const again = await request(secondApp.getHttpServer())
        .post('/v1/requests')
        .set('Authorization', bearer)
        .set('Idempotency-Key', idempotencyKey)
        .send(submission())
        .expect(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      // The log holds one fact under the event id: the first request, as agreed.
      const events = (await eventsBy(actor)).filter((event) => event.id === eventId || (event.data as { requestId?: string }).requestId === requestId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ id: eventId, data: { requestId, justification: 'investigate the staging checkout bug', duration: 'PT8H' } });
    });
  });

  describe('when Kafka is unreachable', () => {
    let deadApp: INestApplication;
    let deadBus: KafkaMessageBus;

    beforeAll(async () => {
      // A second instance whose producer points at a port nobody listens on. Its bus skips the start-up connection
      // (which would refuse to boot), so the first contact with the dead broker is the request's publish.
      deadBus = new KafkaMessageBus({
        clientId: uniqueName('intake_dead'),
        brokers: [`127.0.0.1:${await deadPort()}`],
        registry,
        logger: silentLogger,
        connectionTimeoutMs: 500,
      });
      const lazyBus: MessageBus = Object.assign(Object.create(deadBus) as MessageBus, { connect: async () => undefined, ensureTopics: async () => undefined });
      @Module({
        imports: [
          MongooseModule.forRoot(mongoDatabaseUrl(SET_ENV.MONGO_DB), { serverSelectionTimeoutMS: 5_000 }),
          MessagingModule.forRoot({ clientId: 'intake-dead', registry, bus: lazyBus }),
          ApiAuthModule.forRoot({ serviceName: 'intake', deniedEvent: RequestAccessDenied }),
          IntakeModule,
        ],
      })
      class DeadKafkaIntakeModule {}
      process.env['PUBLISH_TIMEOUT_MS'] = '4000';
      try {
        deadApp = await NestFactory.create(DeadKafkaIntakeModule, { logger: false });
        await deadApp.init();
      } finally {
        delete process.env['PUBLISH_TIMEOUT_MS'];
      }
    });

    afterAll(async () => {
      await deadApp?.close();
      await deadBus?.disconnect().catch(() => undefined);
    });

    it('answers 503 problem+json, never 202, and nothing reaches the log', async () => {
      const actor = `${alice}_dead`;
      const response = await request(deadApp.getHttpServer())
        .post('/v1/requests')
        .set('Authorization', `Bearer ${await token(actor)}`)
        .set('Idempotency-Key', `dead-${run}`)
        .send(submission())
        .expect(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 503, type: expect.stringContaining('event-log-unavailable') });
      expect(await eventsBy(actor)).toEqual([]);
    });
  });
});
