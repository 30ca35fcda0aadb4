import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ConnectorRunner, InMemoryIdempotencyStore, describeConnectorConformance, idempotencyKeyOf } from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import { startPrivateScimTarget } from '@grantline/testing';
import type { PrivateScimTarget } from '@grantline/testing';
import { ScimGroupConnector } from './scim-group.connector';

const SCIM_URL = process.env['SCIM_URL'];
const SCIM_TOKEN = process.env['SCIM_BEARER_TOKEN'];
if (!SCIM_URL || !SCIM_TOKEN) {
  // Never skip: a green run without a SCIM server would prove nothing about this connector.
  throw new Error('SCIM_URL and SCIM_BEARER_TOKEN are not set. The test harness (libs/testing global setup) starts tools/scim-target and exports both.');
}
const scimUrl: string = SCIM_URL;
const scimToken: string = SCIM_TOKEN;

// The harness's target is shared, so isolation is by name: every user and group this file creates starts with RUN.
const RUN = `gl${randomBytes(3).toString('hex')}`;
const MANAGED_PREFIX = `${RUN}-grp-`;
let fixtureSeq = 0;

/** The parts of SCIM answers (and of the target's control API) this spec reads. */
interface Answer {
  status: number;
  body: { id?: string; members?: { value: string }[]; Resources?: { id: string }[]; requests?: { method: string; status: number; at: number }[] };
}

async function scim(method: string, path: string, body?: unknown, base = scimUrl, token = scimToken): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Answer['body'] };
}

async function created(path: '/Users' | '/Groups', resource: Record<string, unknown>, base?: string, token?: string): Promise<string> {
  const schema = path === '/Users' ? 'urn:ietf:params:scim:schemas:core:2.0:User' : 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const answer = await scim('POST', path, { schemas: [schema], ...resource }, base, token);
  if (answer.status !== 201) throw new Error(`POST ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  if (answer.body.id === undefined) throw new Error(`POST ${path} answered no id`);
  return answer.body.id;
}

const createUser = (userName: string, base?: string, token?: string): Promise<string> => created('/Users', { userName, active: true }, base, token);
const createGroup = (displayName: string, base?: string, token?: string): Promise<string> => created('/Groups', { displayName }, base, token);

async function memberIds(groupId: string, base?: string, token?: string): Promise<string[]> {
  const { body } = await scim('GET', `/Groups/${groupId}`, undefined, base, token);
  return (body.members ?? []).map((member) => member.value).sort();
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function connectorFor(baseUrl = scimUrl, options: { token?: string; requestTimeoutMs?: number; pageSize?: number } = {}): ScimGroupConnector {
  return new ScimGroupConnector({
    id: 'scim-test',
    baseUrl,
    bearerToken: options.token ?? scimToken,
    managedGroups: { prefix: MANAGED_PREFIX },
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    pageSize: options.pageSize,
  });
}

function op(operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation {
  const grantId = `g-${randomBytes(4).toString('hex')}`;
  return { grantId, operation, idempotencyKey: idempotencyKeyOf(grantId, operation), account, entitlementRef };
}

afterAll(async () => {
  for (const [path, attribute] of [
    ['/Groups', 'displayName'],
    ['/Users', 'userName'],
  ] as const) {
    const { body } = await scim('GET', `${path}?count=1000&filter=${encodeURIComponent(`${attribute} sw "${RUN}"`)}`);
    for (const resource of body.Resources ?? []) await scim('DELETE', `${path}/${resource.id}`);
  }
});

describeConnectorConformance('scim 2.0 group membership', async () => {
  const n = (fixtureSeq += 1);
  const accounts = [`${RUN}-t${n}-alice`, `${RUN}-t${n}-bob`] as const;
  const entitlements = [`${MANAGED_PREFIX}t${n}-sales`, `${MANAGED_PREFIX}t${n}-support`] as const;
  const unmanaged = `${RUN}-t${n}-unmanaged`;
  for (const account of accounts) await createUser(account);
  for (const group of [...entitlements, unmanaged]) await createGroup(group);
  return {
    connector: connectorFor(),
    accounts,
    entitlements,
    missingEntitlement: `${MANAGED_PREFIX}t${n}-missing`,
    unmanagedEntitlement: unmanaged,
    unreachableConnector: async () => connectorFor(`http://127.0.0.1:${await closedPort()}/scim/v2`),
    dispose: async () => undefined,
  };
});

describe('ScimGroupConnector against the SCIM target', () => {
  let account: string;
  let userId: string;
  let group: string;
  let groupId: string;

  beforeEach(async () => {
    const n = (fixtureSeq += 1);
    account = `${RUN}-s${n}-carol@example.com`;
    group = `${MANAGED_PREFIX}s${n}-ops`;
    userId = await createUser(account);
    groupId = await createGroup(group);
  });

  it('makes the membership visible through the SCIM API, once, and removes it again', async () => {
    const connector = connectorFor();
    await connector.provision(op('provision', account, group));
    await connector.provision(op('provision', account, group));
    expect(await memberIds(groupId)).toEqual([userId]);
    await connector.deprovision(op('deprovision', account, group));
    expect(await memberIds(groupId)).toEqual([]);
  });

  it('reports a member added by hand through the SCIM API (drift), and leaves other members alone when revoking', async () => {
    const other = await createUser(`${RUN}-s${fixtureSeq}-dave`);
    const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: other }] }] };
    expect((await scim('PATCH', `/Groups/${groupId}`, patch)).status).toBe(200);
    const connector = connectorFor();
    await connector.provision(op('provision', account, group));
    const state = await connector.listActualState({ entitlementRefs: [group] });
    expect(state.memberships).toEqual(
      [
        { account, entitlementRef: group },
        { account: `${RUN}-s${fixtureSeq}-dave`, entitlementRef: group },
      ].sort((a, b) => a.account.localeCompare(b.account)),
    );
    await connector.deprovision(op('deprovision', account, group));
    expect(await memberIds(groupId)).toEqual([other]);
  });

  it('walks pages when the managed groups outnumber a page', async () => {
    const more = [1, 2, 3, 4].map((i) => `${group}-${i}`);
    const connector = connectorFor(scimUrl, { pageSize: 2 });
    for (const name of more) {
      await createGroup(name);
      await connector.provision(op('provision', account, name));
    }
    const state = await connector.listActualState({ accounts: [account] });
    expect(state.memberships.map((m) => m.entitlementRef)).toEqual([...more].sort());
  });

  it('deactivates an account (active: false), and a second time changes nothing', async () => {
    const connector = connectorFor();
    const leaver = (name: string) => ({ identityId: `${RUN}-leaver`, idempotencyKey: `${RUN}-leaver:deactivate` as const, account: name });
    await expect(connector.deactivateAccount(leaver(account))).resolves.toEqual({ changed: true });
    expect((await scim('GET', `/Users/${userId}`)).body).toMatchObject({ userName: account, active: false });
    await expect(connector.deactivateAccount(leaver(account))).resolves.toEqual({ changed: false });
    await expect(connector.deactivateAccount(leaver(`${RUN}-nobody`))).resolves.toEqual({ changed: false });
  });

  it('maps a refused bearer token to a terminal permission_denied', async () => {
    await expect(connectorFor(scimUrl, { token: 'not-the-token-0123456789' }).provision(op('provision', account, group))).rejects.toMatchObject({
      code: 'permission_denied',
      errorClass: 'terminal',
      providerCode: 'http_401',
    });
  });

  it('maps an account the application does not know to a terminal not_found on provision', async () => {
    await expect(connectorFor().provision(op('provision', `${RUN}-ghost`, group))).rejects.toMatchObject({ code: 'not_found', errorClass: 'terminal' });
  });
});

describe('ScimGroupConnector against a target that fails (a private target with switches)', () => {
  let target: PrivateScimTarget;

  beforeAll(async () => {
    target = await startPrivateScimTarget({ seed: { users: ['erin'], groups: [{ displayName: 'grantline-sales' }, { displayName: 'grantline-support' }] } });
  });

  afterAll(() => target?.dispose());

  const control = (method: string, path: string, body?: unknown): Promise<Answer> => scim(method, path, body, target.controlUrl, target.token);
  const privateConnector = (requestTimeoutMs = 5_000): ScimGroupConnector =>
    new ScimGroupConnector({ id: 'scim-faults', baseUrl: target.url, bearerToken: target.token, managedGroups: { prefix: 'grantline-' }, requestTimeoutMs });

  it('waits out a 429 for the Retry-After the server gave, then the grant succeeds', async () => {
    await control('DELETE', '/requests');
    expect((await control('POST', '/faults', { status: 429, retryAfterSeconds: 1, count: 1, method: 'PATCH' })).status).toBe(204);
    const waits: number[] = [];
    const runner = new ConnectorRunner({
      connector: privateConnector(),
      idempotencyStore: new InMemoryIdempotencyStore(),
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10_000, onRetry: ({ delayMs }) => void waits.push(delayMs) },
    });
    await expect(runner.handle(op('provision', 'erin', 'grantline-sales'))).resolves.toMatchObject({ status: 'provisioned', changed: true, attempts: 2 });
    expect(waits).toEqual([1000]);
    // the server's own record: the PATCH it limited, then the retry at least Retry-After later, answered 200
    const patches = ((await control('GET', '/requests')).body.requests ?? []).filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.status)).toEqual([429, 200]);
    expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('maps a 503 to a retriable unavailable carrying its Retry-After', async () => {
    await control('POST', '/faults', { status: 503, retryAfterSeconds: 30, count: 1 });
    await expect(privateConnector().provision(op('provision', 'erin', 'grantline-support'))).rejects.toMatchObject({
      code: 'unavailable',
      errorClass: 'retriable',
      retryAfterMs: 30_000,
    });
  });

  it('maps a server slower than the request timeout to a retriable timeout', async () => {
    await control('POST', '/faults', { delayMs: 2_000, count: 1 });
    await expect(privateConnector(300).listActualState()).rejects.toMatchObject({ code: 'timeout', errorClass: 'retriable' });
  });

  it('answers rate_limited while the switchable rate limit is on, and works again once it is off', async () => {
    await control('PUT', '/rate-limit', { rateLimit: { limit: 1, windowMs: 60_000, retryAfterSeconds: 2 } });
    try {
      const connector = privateConnector();
      // the first request of the window passes (the user lookup), the next is limited
      await expect(connector.provision(op('provision', 'erin', 'grantline-support'))).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 2_000 });
    } finally {
      await control('PUT', '/rate-limit', { rateLimit: null });
    }
    await expect(privateConnector().provision(op('provision', 'erin', 'grantline-support'))).resolves.toEqual({ changed: true });
  });
});
