import { ConnectorRunner, InMemoryIdempotencyStore, idempotencyKeyOf } from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import { ScimGroupConnector } from './scim-group.connector';

const TOKEN = 'secret-bearer-token-value';

interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  ifMatch: string | null;
  body: { Operations: { op: string; path: string; value?: { value: string }[] }[] } | undefined;
  at: number;
}

/**
 * A SCIM provider in a function, enough to see exactly what the connector sends: users and groups, weak versions,
 * startIndex/count paging, and scripted failures. The real server is exercised by the int spec.
 */
class FakeScim {
  clock = 0;
  readonly seen: SeenRequest[] = [];
  readonly users = new Map<string, { id: string; userName: string; active: boolean }>();
  readonly groups = new Map<string, { id: string; displayName: string; members: { value: string }[]; version: number }>();
  private readonly scripted: { method: string; status: number; headers: Record<string, string> }[] = [];
  /** Runs once, when the next PATCH arrives: another writer's change between the connector's read and its write. */
  beforeNextPatch: (() => void) | undefined;

  constructor(userNames: string[], groupNames: string[]) {
    userNames.forEach((userName, i) => this.users.set(`u${i}`, { id: `u${i}`, userName, active: true }));
    groupNames.forEach((displayName, i) => this.groups.set(`g${i}`, { id: `g${i}`, displayName, members: [], version: 1 }));
  }

  failNext(method: string, status: number, headers: Record<string, string> = {}): void {
    this.scripted.push({ method, status, headers });
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    const body = init?.body === undefined ? undefined : (JSON.parse(String(init.body)) as SeenRequest['body']);
    this.seen.push({ method, path: url.pathname, query: url.searchParams, ifMatch: headers.get('if-match'), body, at: this.clock });
    if (headers.get('authorization') !== `Bearer ${TOKEN}`) return this.answer(401, { detail: 'bad token' });
    const scripted = this.scripted.findIndex((s) => s.method === method);
    if (scripted >= 0) {
      const [failure] = this.scripted.splice(scripted, 1);
      return this.answer(failure!.status, { detail: 'scripted' }, failure!.headers);
    }
    const path = url.pathname.replace(/^\/scim\/v2/, '');
    if (path === '/ServiceProviderConfig') return this.answer(200, {});
    const filter = url.searchParams.get('filter') ?? '';
    const [, attribute, operator, value] = /^(\w+) (eq|sw) "(.*)"$/.exec(filter) ?? [];
    const matches = (actual: string): boolean => filter === '' || (operator === 'eq' ? actual === value : actual.startsWith(value ?? ''));
    const page = <T>(all: T[]): Response => {
      const startIndex = Number(url.searchParams.get('startIndex') ?? '1');
      const count = Number(url.searchParams.get('count') ?? '20');
      return this.answer(200, { totalResults: all.length, startIndex, itemsPerPage: count, Resources: all.slice(startIndex - 1, startIndex - 1 + count) });
    };
    if (method === 'GET' && path === '/Users') return page([...this.users.values()].filter((u) => attribute !== 'userName' || matches(u.userName)));
    if (method === 'GET' && path === '/Groups') {
      return page([...this.groups.values()].filter((g) => matches(g.displayName)).map((g) => ({ ...g, meta: { version: `W/"${g.version}"` } })));
    }
    const group = this.groups.get(path.replace('/Groups/', ''));
    if (method === 'PATCH' && group !== undefined) {
      const interleaved = this.beforeNextPatch;
      this.beforeNextPatch = undefined;
      interleaved?.();
      if (headers.get('if-match') !== null && headers.get('if-match') !== `W/"${group.version}"`) return this.answer(412, { detail: 'moved on' });
      for (const operation of body?.Operations ?? []) {
        if (operation.op === 'add') group.members.push(...(operation.value ?? []));
        const removed = /^members\[value eq "(.*)"\]$/.exec(operation.path)?.[1];
        if (operation.op === 'remove') group.members = group.members.filter((m) => m.value !== removed);
      }
      group.version += 1;
      return this.answer(200, { ...group, meta: { version: `W/"${group.version}"` } });
    }
    return this.answer(404, { detail: 'no route' });
  };

  patches(): SeenRequest[] {
    return this.seen.filter((request) => request.method === 'PATCH');
  }

  private answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/scim+json', ...headers } });
  }
}

function connectorFor(scim: FakeScim, options: { token?: string; pageSize?: number } = {}): ScimGroupConnector {
  return new ScimGroupConnector({
    id: 'scim',
    baseUrl: 'http://crm.test/scim/v2/',
    bearerToken: options.token ?? TOKEN,
    managedGroups: { prefix: 'grantline-' },
    pageSize: options.pageSize,
    fetch: scim.fetch,
  });
}

let sequence = 0;
function op(operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation {
  const grantId = `grant-${(sequence += 1)}`;
  return { grantId, operation, idempotencyKey: idempotencyKeyOf(grantId, operation), account, entitlementRef };
}

describe('ScimGroupConnector (what it sends)', () => {
  it('adds the user by PATCH with If-Match on the version it read, and not again when already a member', async () => {
    const scim = new FakeScim(['alice'], ['grantline-sales']);
    const connector = connectorFor(scim);
    await expect(connector.provision(op('provision', 'alice', 'grantline-sales'))).resolves.toEqual({ changed: true });
    expect(scim.patches()).toEqual([
      expect.objectContaining({
        path: '/scim/v2/Groups/g0',
        ifMatch: 'W/"1"',
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: 'u0' }] }] },
      }),
    ]);
    await expect(connector.provision(op('provision', 'alice', 'grantline-sales'))).resolves.toEqual({ changed: false });
    expect(scim.patches()).toHaveLength(1);
    expect(scim.seen.find((r) => r.path.endsWith('/Users'))?.query.get('filter')).toBe('userName eq "alice"');
  });

  it('removes the member by a value filter, and a revoke of what is absent sends nothing', async () => {
    const scim = new FakeScim(['alice'], ['grantline-sales']);
    scim.groups.get('g0')!.members.push({ value: 'u0' });
    const connector = connectorFor(scim);
    await expect(connector.deprovision(op('deprovision', 'alice', 'grantline-sales'))).resolves.toEqual({ changed: true });
    expect(scim.patches()[0]?.body?.Operations).toEqual([{ op: 'remove', path: 'members[value eq "u0"]' }]);
    await expect(connector.deprovision(op('deprovision', 'alice', 'grantline-sales'))).resolves.toEqual({ changed: false });
    await expect(connector.deprovision(op('deprovision', 'nobody', 'grantline-sales'))).resolves.toEqual({ changed: false });
    await expect(connector.deprovision(op('deprovision', 'alice', 'grantline-gone'))).resolves.toEqual({ changed: false });
    expect(scim.patches()).toHaveLength(1);
  });

  it('retries a 429 after the Retry-After the server gave, then succeeds', async () => {
    const scim = new FakeScim(['alice'], ['grantline-sales']);
    scim.failNext('PATCH', 429, { 'Retry-After': '2' });
    const waits: number[] = [];
    const runner = new ConnectorRunner({
      connector: connectorFor(scim),
      idempotencyStore: new InMemoryIdempotencyStore(),
      // the injected sleeper moves the fake server's clock: every request is stamped with when it was sent
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10_000, random: () => 0, sleeper: async (ms) => void (waits.push(ms), (scim.clock += ms)) },
    });
    const result = await runner.handle(op('provision', 'alice', 'grantline-sales'));
    expect(result).toMatchObject({ status: 'provisioned', changed: true });
    expect(waits).toEqual([2000]);
    const [limited, retried] = scim.patches();
    expect(retried!.at - limited!.at).toBe(2000);
    expect(scim.groups.get('g0')!.members).toEqual([{ value: 'u0' }]);
  });

  it('treats a 412 (the group moved on) as a retriable conflict: the retry reads again and sends the new version', async () => {
    const scim = new FakeScim(['alice', 'bob'], ['grantline-sales']);
    const connector = connectorFor(scim);
    scim.beforeNextPatch = () => void (scim.groups.get('g0')!.version = 7);
    await expect(connector.provision(op('provision', 'alice', 'grantline-sales'))).rejects.toMatchObject({
      code: 'conflict',
      errorClass: 'retriable',
      providerCode: 'http_412',
    });
    expect(scim.groups.get('g0')!.members).toEqual([]);

    const runner = new ConnectorRunner({
      connector,
      idempotencyStore: new InMemoryIdempotencyStore(),
      retry: { maxAttempts: 2, sleeper: async () => undefined },
    });
    scim.beforeNextPatch = () => void (scim.groups.get('g0')!.version = 8);
    await expect(runner.handle(op('provision', 'alice', 'grantline-sales'))).resolves.toMatchObject({ status: 'provisioned', changed: true, attempts: 2 });
    expect(scim.patches().map((p) => p.ifMatch)).toEqual(['W/"1"', 'W/"7"', 'W/"8"']);
    expect(scim.groups.get('g0')!.members).toEqual([{ value: 'u0' }]);
  });

  it('walks every page of the managed groups and of the users when listing', async () => {
    const scim = new FakeScim(['alice', 'bob', 'carol'], ['grantline-a', 'grantline-b', 'grantline-c', 'other']);
    for (const id of ['g0', 'g1', 'g2', 'g3']) scim.groups.get(id)!.members.push({ value: 'u1' });
    scim.groups.get('g2')!.members.push({ value: 'u2' });
    const state = await connectorFor(scim, { pageSize: 2 }).listActualState();
    expect(state.memberships).toEqual([
      { account: 'bob', entitlementRef: 'grantline-a' },
      { account: 'bob', entitlementRef: 'grantline-b' },
      { account: 'bob', entitlementRef: 'grantline-c' },
      { account: 'carol', entitlementRef: 'grantline-c' },
    ]);
    const groupPages = scim.seen.filter((r) => r.path.endsWith('/Groups')).map((r) => [r.query.get('startIndex'), r.query.get('filter')]);
    expect(groupPages).toEqual([
      ['1', 'displayName sw "grantline-"'],
      ['3', 'displayName sw "grantline-"'],
    ]);
    expect(scim.seen.filter((r) => r.path.endsWith('/Users')).map((r) => r.query.get('startIndex'))).toEqual(['1', '3']);
  });

  it('refuses an unmanaged group or a name that does not fit a filter, before sending anything', async () => {
    const scim = new FakeScim(['alice'], ['other']);
    const connector = connectorFor(scim);
    await expect(connector.provision(op('provision', 'alice', 'other'))).rejects.toMatchObject({ code: 'invalid_request', errorClass: 'terminal' });
    await expect(connector.provision(op('provision', 'alice" or userName pr "', 'grantline-x'))).rejects.toMatchObject({ code: 'invalid_request' });
    expect(scim.seen).toEqual([]);
  });

  it('maps a refused token to permission_denied without ever echoing the token', async () => {
    const scim = new FakeScim(['alice'], ['grantline-sales']);
    const error = await connectorFor(scim, { token: 'wrong-token-value' })
      .provision(op('provision', 'alice', 'grantline-sales'))
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      );
    expect(error).toMatchObject({ code: 'permission_denied', errorClass: 'terminal', providerCode: 'http_401' });
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain('wrong-token-value');
  });

  it('validates its options', () => {
    const base = { id: 'scim', baseUrl: 'http://crm.test/scim/v2', bearerToken: TOKEN, managedGroups: { prefix: 'grantline-' } };
    expect(() => new ScimGroupConnector({ ...base, managedGroups: {} })).toThrow(/prefix or at least one name/);
    expect(() => new ScimGroupConnector({ ...base, baseUrl: 'ftp://crm.test' })).toThrow(/http/);
    expect(() => new ScimGroupConnector({ ...base, managedGroups: { prefix: 'a"b' } })).toThrow(/prefix/);
  });
});
