import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SCIM_BASE_PATH, createScimTarget } from './scim-target.app';
import { ScimStore } from './scim-store';

const TOKEN = 'test-token-0123456789abcdef';
const store = new ScimStore();
store.seed({ users: ['alice', 'bob', 'carol'], groups: [{ displayName: 'crm-sales', members: ['alice'] }] });
let server: Server;
let base: string;

/** The parts of SCIM answers (and of the control API's) this spec reads. */
interface Body {
  id?: string;
  members?: { value: string }[];
  Resources?: unknown[];
  scimType?: string;
  error?: string;
  requests?: { status: number }[];
  [key: string]: unknown;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Body; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Body, headers: response.headers };
}

const patchOp = (Operations: unknown[]): unknown => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations });
const userId = (userName: string): string => store.all('Users').find((u) => u.attributes['userName'] === userName)?.id ?? '';
const group = () => store.all('Groups')[0]!;

beforeAll(async () => {
  server = createScimTarget({ token: TOKEN, store }).app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the SCIM 2.0 test target', () => {
  it('refuses a request without the bearer token, and a wrong one', async () => {
    expect((await fetch(`${base}${SCIM_BASE_PATH}/Users`)).status).toBe(401);
    expect((await call('GET', `${SCIM_BASE_PATH}/Users`, undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await fetch(`${base}/_control/requests`)).status).toBe(401);
  });

  it('filters users by userName and pages with startIndex/count', async () => {
    const bob = await call('GET', `${SCIM_BASE_PATH}/Users?filter=${encodeURIComponent('userName eq "bob"')}`);
    expect(bob.body).toMatchObject({ totalResults: 1, Resources: [{ userName: 'bob', id: userId('bob') }] });
    const page = await call('GET', `${SCIM_BASE_PATH}/Users?startIndex=2&count=1`);
    expect(page.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(page.body.Resources).toHaveLength(1);
  });

  it('adds and removes a group member by PATCH, keeps a member once, and bumps the version each time', async () => {
    const before = group().version;
    const add = await call(
      'PATCH',
      `${SCIM_BASE_PATH}/Groups/${group().id}`,
      patchOp([{ op: 'add', path: 'members', value: [{ value: userId('bob') }, { value: userId('bob') }] }]),
    );
    expect(add.status).toBe(200);
    expect(add.body.members?.map((m) => m.value).sort()).toEqual([userId('alice'), userId('bob')].sort());
    expect(add.headers.get('etag')).toBe(`W/"${before + 1}"`);
    const remove = await call('PATCH', `${SCIM_BASE_PATH}/Groups/${group().id}`, patchOp([{ op: 'remove', path: `members[value eq "${userId('bob')}"]` }]));
    expect(remove.body.members).toEqual([expect.objectContaining({ value: userId('alice') })]);
    expect(group().version).toBe(before + 2);
  });

  it('refuses a member that is not a user, and a duplicate userName', async () => {
    const ghost = await call('PATCH', `${SCIM_BASE_PATH}/Groups/${group().id}`, patchOp([{ op: 'add', path: 'members', value: [{ value: 'ghost' }] }]));
    expect(ghost.status).toBe(400);
    const dup = await call('POST', `${SCIM_BASE_PATH}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'alice' });
    expect(dup).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
  });

  it('answers 412 to a write whose If-Match names an old version, and applies one that names the current', async () => {
    const current = `W/"${group().version}"`;
    const stale = await call(
      'PATCH',
      `${SCIM_BASE_PATH}/Groups/${group().id}`,
      patchOp([{ op: 'add', path: 'members', value: [{ value: userId('carol') }] }]),
      {
        'if-match': 'W/"1"',
      },
    );
    expect(stale.status).toBe(412);
    expect(group().attributes['members']).toHaveLength(1);
    const fresh = await call(
      'PATCH',
      `${SCIM_BASE_PATH}/Groups/${group().id}`,
      patchOp([{ op: 'add', path: 'members', value: [{ value: userId('carol') }] }]),
      {
        'if-match': current,
      },
    );
    expect(fresh.status).toBe(200);
  });

  it('answers 404 for an unknown group', async () => {
    expect((await call('GET', `${SCIM_BASE_PATH}/Groups/no-such-id`)).status).toBe(404);
  });

  it('injects a 429 with Retry-After for the next request only, and records what it answered', async () => {
    expect((await call('POST', '/_control/faults', { status: 429, retryAfterSeconds: 7, count: 1 })).status).toBe(204);
    const limited = await call('GET', `${SCIM_BASE_PATH}/Users`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await call('GET', `${SCIM_BASE_PATH}/Users`)).status).toBe(200);
    const { body } = await call('GET', '/_control/requests');
    expect(body.requests?.slice(-2).map((r) => r.status)).toEqual([429, 200]);
  });

  it('rate limits when switched on, and stops when switched off', async () => {
    expect((await call('PUT', '/_control/rate-limit', { rateLimit: { limit: 1, windowMs: 60_000, retryAfterSeconds: 3 } })).status).toBe(204);
    expect((await call('GET', `${SCIM_BASE_PATH}/Groups`)).status).toBe(200);
    const limited = await call('GET', `${SCIM_BASE_PATH}/Groups`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    await call('PUT', '/_control/rate-limit', { rateLimit: null });
    expect((await call('GET', `${SCIM_BASE_PATH}/Groups`)).status).toBe(200);
  });

  it('refuses a fault without a status or delay, naming the problem', async () => {
    const bad = await call('POST', '/_control/faults', { count: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/status or a delayMs/);
  });
});
