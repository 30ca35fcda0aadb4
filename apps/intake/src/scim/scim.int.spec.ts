// SCIM 2.0 inbound against the real Kafka and MongoDB-wire store from jest's global setup: the intake app as main.ts
// runs it (IntakeModule imports ScimModule), driven over HTTP the way an identity provider
// drives it, with dev-issuer tokens; identity facts are read back from iga.identities.v1 with MessageBus.replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope, IdentityOffboardedData, IdentityUpsertedData } from '@grantline/contracts';
import { DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';

const { kafkaBrokers } = infraEndpoints();
const run = uniqueName('scim');
const SET_ENV = { MONGO_DB: uniqueName('intake_scim_spec'), PORT: '0', AUTH_MODE: 'dev', LOG_LEVEL: 'error' };
const SCIM_JSON = 'application/scim+json';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const maria = `maria_${run}`;
const olga = `olga_${run}`;
const babs = `bjensen_${run}`;

describe('SCIM 2.0 inbound on real Kafka and MongoDB', () => {
  let service: RunningService;
  let bus: KafkaMessageBus;
  let key: DevIssuerKey;
  let issuerDir: string;
  let okta: string;
  const previousEnv: Record<string, string | undefined> = {};

  const token = (subject: string, roles: string[], workload: boolean): Promise<string> =>
    mintDevToken(key, { subject, audience: 'grantline', issuer: DEV_ISSUER, ttlSeconds: 600, roles, ...(workload ? { workload: true } : {}) });
  const server = () => service.app.getHttpServer();
  /** `bearer` null: no Authorization header at all. */
  const scim = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, bearer: string | null = okta) => {
    const call = request(server())[method](`/scim/v2${path}`);
    return bearer === null ? call : call.set('Authorization', `Bearer ${bearer}`);
  };
  const send = (method: 'post' | 'put' | 'patch', path: string, body: object, bearer: string | null = okta) =>
    scim(method, path, bearer).set('Content-Type', SCIM_JSON).send(JSON.stringify(body));
  const patchOps = (...operations: object[]) => ({ schemas: [PATCH_OP], Operations: operations });
  const user = (userName: string, extra: object = {}) => ({ schemas: [USER_SCHEMA, ENTERPRISE], userName, ...extra });

  const readTopic = async (topic: string): Promise<Envelope[]> => {
    const events: Envelope[] = [];
    await bus.replay({ topics: [topic], handler: async (event) => void events.push(event) });
    return events;
  };
  const identityEventsOf = async (identityId: string): Promise<Envelope[]> =>
    (await readTopic(TOPICS.identities)).filter((event) => event.subject === identityId);
  /** Waits (bounded) until the identity has `count` events, then returns them in order. */
  const identityEvents = (identityId: string, count: number): Promise<Envelope[]> =>
    eventually(
      async () => {
        const events = await identityEventsOf(identityId);
        if (events.length < count) throw new Error(`${identityId}: ${events.length} of ${count} identity events so far`);
        return events;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  const upserted = (event: Envelope | undefined): IdentityUpsertedData => {
    expect(event?.type).toBe('iga.identity.upserted.v1');
    return event?.data as IdentityUpsertedData;
  };

  beforeAll(async () => {
    issuerDir = mkdtempSync(join(tmpdir(), 'scim-dev-issuer-'));
    for (const [name, value] of Object.entries({ ...SET_ENV, DEV_ISSUER_DIR: issuerDir })) {
      previousEnv[name] = process.env[name];
      process.env[name] = value;
    }
    key = await ensureDevIssuerKey(issuerDir);
    okta = await token('okta', ['identity-source'], true);
    // The kit reads its environment when the module is declared: import the app only now.
    const { AppModule } = await import('../app.module');
    service = await startService(AppModule, { serviceName: 'intake', groupId: uniqueName('scim_group'), openApi: false, fromBeginning: false });
    bus = new KafkaMessageBus({ clientId: uniqueName('scim_reader'), brokers: kafkaBrokers, registry, logger: silentLogger });
    await bus.connect();
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

  it('creates a user with a manager: 201 with Location and ETag, and iga.identity.upserted.v1 with the managerId', async () => {
    await send('post', '/Users', user(maria, { displayName: 'Maria Manager' })).expect(201);
    const created = await send(
      'post',
      '/Users',
      user(babs, {
        externalId: `00u-${run}`,
        name: { givenName: 'Barbara', familyName: 'Jensen' },
        emails: [{ value: 'babs@example.com', type: 'work', primary: true }],
        userType: 'Employee',
        [ENTERPRISE]: { department: 'Tour Operations', manager: { value: maria } },
      }),
    ).expect(201);
    expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(created.headers['etag']).toBe('W/"1"');
    expect(created.headers['location']).toMatch(new RegExp(`/scim/v2/Users/${babs}$`));
    expect(created.body).toMatchObject({
      id: babs,
      userName: babs,
      active: true,
      meta: { resourceType: 'User', version: 'W/"1"' },
      [ENTERPRISE]: { manager: { value: maria } },
    });

    const [event] = await identityEvents(babs, 1);
    expect(event).toMatchObject({ type: 'iga.identity.upserted.v1', subject: babs, actor: { kind: 'service', id: 'okta' } });
    expect(upserted(event)).toEqual({
      sourceVersion: 1,
      identity: {
        kind: 'human',
        identityId: babs,
        displayName: 'Barbara Jensen',
        status: 'active',
        sourceSystem: 'scim',
        email: 'babs@example.com',
        managerId: maria,
        team: 'Tour Operations',
        attributes: { employment: 'employee' },
      },
    });
  });

  it('changes the manager by PATCH as Azure AD sends it, keeping onCall recorded by the on-call system', async () => {
    const oncall = await token('pagerduty', ['oncall-source'], true);
    await request(server())
      .patch(`/v1/identities/${babs}/attributes`)
      .set('Authorization', `Bearer ${oncall}`)
      .send({ attributes: { onCall: true } })
      .expect(202);
    const patched = await send('patch', `/Users/${babs}`, patchOps({ op: 'Replace', path: `${ENTERPRISE}:manager`, value: olga })).expect(200);
    expect(patched.headers['etag']).toBe('W/"2"');
    expect(patched.body).toMatchObject({ [ENTERPRISE]: { manager: { value: olga } } });
    const events = await identityEvents(babs, 3);
    const last = upserted(events[2]);
    expect(last).toMatchObject({ sourceVersion: 2, identity: { managerId: olga, attributes: { onCall: true, employment: 'employee' } } });
    // The same PATCH again changes nothing: no new version, no second fact.
    await send('patch', `/Users/${babs}`, patchOps({ op: 'Replace', path: `${ENTERPRISE}:manager`, value: olga }))
      .expect(200)
      .expect('ETag', 'W/"2"');
    expect(await identityEventsOf(babs)).toHaveLength(3);
  });

  it('re-publishes the members of a new group with its name in their groups attribute, and again when one is removed', async () => {
    const name = `Tour Guides ${run}`;
    const created = await send('post', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: name,
      members: [{ value: babs }, { value: maria }],
    }).expect(201);
    const groupId = (created.body as { id: string }).id;
    expect(created.body).toMatchObject({
      displayName: name,
      members: [
        { value: babs, display: 'Barbara Jensen', type: 'User' },
        { value: maria, display: 'Maria Manager' },
      ],
    });
    expect(upserted((await identityEvents(babs, 4))[3])).toMatchObject({
      sourceVersion: 3,
      identity: { managerId: olga, attributes: { groups: name, onCall: true } },
    });
    expect(upserted((await identityEvents(maria, 2))[1]).identity.attributes).toEqual({ groups: name });

    await send('patch', `/Groups/${groupId}`, patchOps({ op: 'remove', path: `members[value eq "${maria}"]` })).expect(200);
    expect(upserted((await identityEvents(maria, 3))[2]).identity.attributes).toEqual({});
    expect(await identityEventsOf(babs)).toHaveLength(4);

    const found = await scim('get', `/Groups?filter=${encodeURIComponent(`displayName eq "${name.toUpperCase()}"`)}&excludedAttributes=members`).expect(200);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: groupId, displayName: name }] });
    expect((found.body as { Resources: object[] }).Resources[0]).not.toHaveProperty('members');
    const member = await scim('get', `/Users/${babs}`).expect(200);
    expect(member.body).toMatchObject({ groups: [{ value: groupId, display: name, type: 'direct' }] });
  });

  it('finds a user by userName (case-insensitively), by id, by externalId and by any other filter', async () => {
    for (const filter of [`userName eq "${babs.toUpperCase()}"`, `id eq "${babs}"`, `externalId eq "00u-${run}"`, `userName eq "${babs}" and active eq true`]) {
      const found = await scim('get', `/Users?filter=${encodeURIComponent(filter)}`).expect(200);
      expect(found.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(found.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 1,
        itemsPerPage: 1,
        startIndex: 1,
        Resources: [{ id: babs }],
      });
    }
    const none = await scim('get', `/Users?filter=${encodeURIComponent('userName eq "nobody"')}`).expect(200);
    expect(none.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
    const bad = await scim('get', `/Users?filter=${encodeURIComponent('userName eq')}`).expect(400);
    expect(bad.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('pages with startIndex and count', async () => {
    const names = ['p1', 'p2', 'p3'].map((suffix) => `page_${run}_${suffix}`);
    for (const name of names) await send('post', '/Users', user(name)).expect(201);
    const filter = encodeURIComponent(`userName sw "page_${run}"`);
    const page = await scim('get', `/Users?filter=${filter}&startIndex=2&count=1`).expect(200);
    expect(page.body).toMatchObject({ totalResults: 3, itemsPerPage: 1, startIndex: 2, Resources: [{ userName: names[1] }] });
    const all = await scim('get', '/Users?startIndex=1&count=2').expect(200);
    expect(all.body).toMatchObject({ itemsPerPage: 2, startIndex: 1 });
    expect((all.body as { totalResults: number }).totalResults).toBeGreaterThanOrEqual(5);
    const totalOnly = await scim('get', '/Users?count=0').expect(200);
    expect(totalOnly.body).toMatchObject({ itemsPerPage: 0, Resources: [] });
  });

  it('answers a duplicate userName (in any case) 409 uniqueness in SCIM form, and publishes nothing', async () => {
    for (const userName of [babs, babs.toUpperCase()]) {
      const duplicate = await send('post', '/Users', user(userName, { displayName: 'Impostor' })).expect(409);
      expect(duplicate.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(duplicate.body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '409',
        scimType: 'uniqueness',
        detail: expect.stringContaining(userName),
      });
    }
    expect(await identityEventsOf(babs.toUpperCase())).toEqual([]);
  });

  it('answers 412 when If-Match names an old version, and 400 naming the attribute for a wrong type; nothing written', async () => {
    const stale = await send('put', `/Users/${maria}`, user(maria, { displayName: 'M' }))
      .set('If-Match', 'W/"1"')
      .expect(412);
    expect(stale.body).toMatchObject({ status: '412' });
    const wrong = await send('patch', `/Users/${maria}`, patchOps({ op: 'replace', path: 'active', value: 'perhaps' })).expect(400);
    expect(wrong.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining('active') });
    expect(await identityEventsOf(maria)).toHaveLength(3);
  });

  it('accepts application/json too, and answers a malformed application/scim+json body 400 invalidSyntax', async () => {
    const name = `json_${run}`;
    await scim('post', '/Users')
      .set('Content-Type', 'application/json')
      .send({ schemas: [USER_SCHEMA], userName: name })
      .expect(201);
    const malformed = await scim('post', '/Users').set('Content-Type', SCIM_JSON).send('{"userName": ').expect(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(malformed.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    // The intake's global JSON parser refuses malformed application/json before the SCIM routes run (see README).
    await scim('post', '/Users')
      .set('Content-Type', 'application/json')
      .send('{"userName": ')
      .expect(400)
      .expect('Content-Type', /^application\/problem\+json/);
  });

  it('makes a user set active=false a leaver: iga.identity.offboarded.v1, reason leaver', async () => {
    const leaver = `leaver_${run}`;
    await send('post', '/Users', user(leaver, { [ENTERPRISE]: { manager: { value: maria } } })).expect(201);
    const deactivated = await send('patch', `/Users/${leaver}`, patchOps({ op: 'replace', value: { active: false } })).expect(200);
    expect(deactivated.body).toMatchObject({ active: false, meta: { version: 'W/"2"' } });
    const events = await identityEvents(leaver, 2);
    expect(events[1]).toMatchObject({ type: 'iga.identity.offboarded.v1', actor: { kind: 'service', id: 'okta' } });
    expect(events[1]?.data as IdentityOffboardedData).toMatchObject({ identityId: leaver, kind: 'human', reason: 'leaver', ownedIdentityIds: [] });
  });

  it('treats DELETE as a leaver too: offboarded, then 404 for the deleted user', async () => {
    const gone = `gone_${run}`;
    await send('post', '/Users', user(gone)).expect(201);
    await scim('delete', `/Users/${gone}`).expect(204);
    const events = await identityEvents(gone, 2);
    expect(events.map((event) => event.type)).toEqual(['iga.identity.upserted.v1', 'iga.identity.offboarded.v1']);
    const missing = await scim('get', `/Users/${gone}`).expect(404);
    expect(missing.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
  });

  it('refuses a member token 403 in SCIM form, records the attempt, and publishes nothing', async () => {
    const mallory = `mallory_${run}`;
    const intruder = `intruder_${run}`;
    const refused = await send('post', '/Users', user(intruder), await token(mallory, [], false)).expect(403);
    expect(refused.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403' });
    const recorded = await eventually(
      async () => {
        const found = (await readTopic(TOPICS.requests)).find((event) => event.type === 'iga.request.access-denied.v1' && event.subject === mallory);
        if (!found) throw new Error('the refused attempt is not on the log yet');
        return found;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(recorded).toMatchObject({ data: { service: 'intake', operation: 'POST /scim/v2/Users', status: 403 } });
    expect(await identityEventsOf(intruder)).toEqual([]);
  });

  it('answers no token 401 in SCIM form with a Bearer challenge, and publishes nothing', async () => {
    const anonymous = `anonymous_${run}`;
    const refused = await send('post', '/Users', user(anonymous), null).expect(401);
    expect(refused.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(refused.body).toMatchObject({ status: '401' });
    await scim('get', '/ServiceProviderConfig', null).expect(401);
    expect(await identityEventsOf(anonymous)).toEqual([]);
  });

  it('serves the discovery endpoints to the identity source (RFC 7644 §4), refusing a filter there', async () => {
    const config = await scim('get', '/ServiceProviderConfig').expect(200);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      etag: { supported: true },
      bulk: { supported: false },
    });
    const types = await scim('get', '/ResourceTypes').expect(200);
    expect(types.body).toMatchObject({ totalResults: 2, Resources: [{ id: 'User', schemaExtensions: [{ schema: ENTERPRISE }] }, { id: 'Group' }] });
    const schema = await scim('get', `/Schemas/${USER_SCHEMA}`).expect(200);
    expect((schema.body as { attributes: { name: string }[] }).attributes.map((attribute) => attribute.name)).toEqual(
      expect.arrayContaining(['userName', 'active', 'emails']),
    );
    await scim('get', '/Schemas?filter=id%20pr').expect(403);
  });
});
