import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { StateReportedDataSchema } from '@grantline/contracts';
import { ConnectorRunner, InMemoryIdempotencyStore, describeConnectorConformance, stateReportPages } from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import { ensureOpenldap, startPrivateLdap } from '@grantline/testing';
import type { PrivateLdap } from '@grantline/testing';
import { LdapGroupConnector } from './ldap-group.connector';
import type { LdapGroupConnectorOptions } from './ldap-group.connector';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    // Never skip: a green run without a directory would prove nothing about this connector.
    throw new Error(
      `${name} is not set. The test harness (libs/testing global setup) exports LDAP_URL, LDAP_BIND_DN, LDAP_BIND_PASSWORD, ` +
        'LDAP_GROUPS_BASE_DN and LDAP_PEOPLE_BASE_DN for its slapd (npm run infra:up starts it)',
    );
  }
  return value;
}

const target = {
  url: requiredEnv('LDAP_URL'),
  bindDn: requiredEnv('LDAP_BIND_DN'),
  bindPassword: requiredEnv('LDAP_BIND_PASSWORD'),
  groupsBaseDn: requiredEnv('LDAP_GROUPS_BASE_DN'),
  peopleBaseDn: requiredEnv('LDAP_PEOPLE_BASE_DN'),
};

// The directory is shared by every run, so isolation is by name: every entry this file creates starts with RUN.
const RUN = `gl${randomBytes(3).toString('hex')}`;
const MANAGED_PREFIX = `${RUN}-grp-`;
const PLACEHOLDER = `cn=grantline-placeholder,${target.peopleBaseDn}`;

const admin = new Client({ url: target.url, timeout: 10_000 });
const created: string[] = [];
const opened: LdapGroupConnector[] = [];
let fixtureSeq = 0;

function connectorWith(overrides: Partial<LdapGroupConnectorOptions> = {}): LdapGroupConnector {
  const connector = new LdapGroupConnector({ id: 'ldap-test', ...target, managedGroupPrefix: MANAGED_PREFIX, connectTimeoutMs: 2_000, ...overrides });
  opened.push(connector);
  return connector;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const personDn = (uid: string): string => `uid=${uid},${target.peopleBaseDn}`;
const groupDn = (cn: string): string => `cn=${cn},${target.groupsBaseDn}`;

async function createPeople(uids: readonly string[]): Promise<void> {
  for (const uid of uids) {
    await admin.add(personDn(uid), { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
    created.push(personDn(uid));
  }
}

/** groupOfNames needs a member from the start: the placeholder (as the connector leaves an emptied group), or the given ones. */
async function createGroups(cns: readonly string[], members: readonly string[] = [PLACEHOLDER]): Promise<void> {
  for (const cn of cns) {
    await admin.add(groupDn(cn), { objectClass: ['groupOfNames'], cn, member: [...members] });
    created.push(groupDn(cn));
  }
}

/** The group's `member` values as the directory holds them, read as an administrator would. */
async function membersOf(cn: string): Promise<string[]> {
  const { searchEntries } = await admin.search(groupDn(cn), { scope: 'base', attributes: ['member'] });
  const value = searchEntries[0]?.['member'];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String).sort();
}

function op(operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation {
  const grantId = `g-${randomBytes(4).toString('hex')}`;
  return { grantId, operation, idempotencyKey: `${grantId}:${operation}`, account, entitlementRef };
}

beforeAll(async () => {
  await admin.bind(target.bindDn, target.bindPassword);
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  for (const dn of created.reverse()) await admin.del(dn).catch(() => undefined);
  await admin.unbind();
});

describeConnectorConformance('ldap group membership', async () => {
  const n = (fixtureSeq += 1);
  const accounts = [`${RUN}-t${n}-alice`, `${RUN}-t${n}-bob`] as const;
  const entitlements = [`${MANAGED_PREFIX}t${n}-readers`, `${MANAGED_PREFIX}t${n}-writers`] as const;
  const unmanaged = `${RUN}-t${n}-unmanaged`;
  await createPeople(accounts);
  await createGroups([...entitlements, unmanaged]);
  return {
    connector: connectorWith(),
    accounts,
    entitlements,
    missingEntitlement: `${MANAGED_PREFIX}t${n}-missing`,
    unmanagedEntitlement: unmanaged,
    unreachableConnector: async () => connectorWith({ id: 'ldap-down', url: `ldap://127.0.0.1:${await closedPort()}` }),
    dispose: async () => undefined,
  };
});

describe('LdapGroupConnector against OpenLDAP', () => {
  let connector: LdapGroupConnector;
  let account: string;
  let group: string;

  beforeEach(async () => {
    const n = (fixtureSeq += 1);
    account = `${RUN}-p${n}-app`;
    group = `${MANAGED_PREFIX}p${n}-ops`;
    await createPeople([account]);
    connector = connectorWith();
  });

  it('removes the last member by leaving the placeholder, so the group stays a valid groupOfNames, and grants into it again', async () => {
    await createGroups([group], [personDn(account)]);
    await expect(connector.deprovision(op('deprovision', account, group))).resolves.toEqual({ changed: true });
    expect(await membersOf(group)).toEqual([PLACEHOLDER]);
    expect((await connector.listActualState({ entitlementRefs: [group] })).memberships).toEqual([]);

    await expect(connector.provision(op('provision', account, group))).resolves.toEqual({ changed: true });
    expect(await membersOf(group)).toEqual([personDn(account), PLACEHOLDER].sort());
    await expect(connector.deprovision(op('deprovision', account, group))).resolves.toEqual({ changed: true });
    expect(await membersOf(group)).toEqual([PLACEHOLDER]);
  });

  it('grants once when the same membership is provisioned concurrently', async () => {
    await createGroups([group]);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => connector.provision(op('provision', account, group))));
    expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
    expect(await membersOf(group)).toEqual([personDn(account), PLACEHOLDER].sort());
  });

  it('refuses to grant to an account that has no entry (no dangling member DN)', async () => {
    await createGroups([group]);
    await expect(connector.provision(op('provision', `${RUN}-nobody`, group))).rejects.toMatchObject({ code: 'not_found', errorClass: 'terminal' });
    expect(await membersOf(group)).toEqual([PLACEHOLDER]);
  });

  it('revokes from a missing group as a no-op', async () => {
    await expect(connector.deprovision(op('deprovision', account, `${MANAGED_PREFIX}never-made`))).resolves.toEqual({ changed: false });
  });

  it('refuses an injection attempt in a name before reaching the server', async () => {
    await createGroups([group]);
    const evil = `${group},ou=admins`;
    await expect(connector.provision(op('provision', account, evil))).rejects.toMatchObject({ code: 'invalid_request', errorClass: 'terminal' });
    await expect(connector.provision(op('provision', `${account})(uid=*`, group))).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await membersOf(group)).toEqual([PLACEHOLDER]);
  });

  it('maps a wrong bind password to a terminal permission_denied (invalidCredentials) that does not echo it', async () => {
    await createGroups([group]);
    const password = `wrong-${randomBytes(8).toString('hex')}`;
    const error = await connectorWith({ bindPassword: password })
      .provision(op('provision', account, group))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'permission_denied', errorClass: 'terminal', providerCode: 'ldap:49 invalidCredentials' });
    expect(JSON.stringify(error) + String(error)).not.toContain(password);
  });

  it('lists across pages of the paged search, only managed groups and only accounts under the people base', async () => {
    const groups = Array.from({ length: 7 }, (_, i) => `${group}-${i}`);
    await createGroups(groups);
    await createGroups([`${RUN}-p-unmanaged`], [personDn(account)]);
    const paged = connectorWith({ pageSize: 2 });
    for (const g of groups) await paged.provision(op('provision', account, g));
    // a member outside the people base is nobody this connector knows: not reported, not touched
    await admin.modify(
      groupDn(groups[0] ?? ''),
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`uid=${account},ou=elsewhere,${target.peopleBaseDn}`] }) }),
    );
    const state = await paged.listActualState({ accounts: [account] });
    expect(state.memberships).toEqual(groups.map((g) => ({ account, entitlementRef: g })).sort((a, b) => a.entitlementRef.localeCompare(b.entitlementRef)));
  });

  it('reports a member added by hand (ldapmodify) in the state report, as reconciliation reads it', async () => {
    await createGroups([group]);
    const intruder = `${RUN}-intruder`;
    await createPeople([intruder]);
    const tools = await ensureOpenldap();
    // What an administrator does outside Grantline, with the directory's own tool (the password from a file, never argv).
    const dir = mkdtempSync(join(tmpdir(), 'grantline-ldap-spec-'));
    const passwordFile = join(dir, 'bind.password');
    writeFileSync(passwordFile, target.bindPassword, { mode: 0o600 });
    try {
      execFileSync(tools.ldapmodify, ['-x', '-H', target.url, '-D', target.bindDn, '-y', passwordFile], {
        env: tools.env,
        input: `dn: ${groupDn(group)}\nchangetype: modify\nadd: member\nmember: ${personDn(intruder)}\n`,
        timeout: 30_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await membersOf(group)).toContain(personDn(intruder));

    const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore(), retry: { maxAttempts: 1 } });
    const report = await runner.reportActualState();
    if (report.status !== 'actual_state') throw new Error(`state report failed: ${JSON.stringify(report)}`);
    const pages = stateReportPages(report, `report-${RUN}`);
    for (const page of pages) StateReportedDataSchema.parse(page);
    expect(pages.flatMap((page) => page.assignments)).toContainEqual({ targetAccount: intruder, entitlementRef: group });
  });
});

describe('LdapGroupConnector through an outage of its own slapd', () => {
  let server: PrivateLdap;

  beforeAll(async () => {
    server = await startPrivateLdap();
  }, 120_000);

  afterAll(async () => {
    await server?.dispose();
  });

  it('answers retriable unavailable while slapd is down, and the same connector works again once it is back', async () => {
    const direct = new Client({ url: server.url, timeout: 10_000 });
    await direct.bind(server.bindDn, server.bindPassword);
    await direct.add(`uid=carol,${server.peopleBaseDn}`, { objectClass: ['inetOrgPerson'], uid: 'carol', cn: 'carol', sn: 'carol' });
    await direct.add(`cn=grantline-ops,${server.groupsBaseDn}`, {
      objectClass: ['groupOfNames'],
      cn: 'grantline-ops',
      member: [`cn=grantline-placeholder,${server.peopleBaseDn}`],
    });
    await direct.unbind();
    const connector = new LdapGroupConnector({
      id: 'ldap-outage',
      url: server.url,
      bindDn: server.bindDn,
      bindPassword: server.bindPassword,
      groupsBaseDn: server.groupsBaseDn,
      peopleBaseDn: server.peopleBaseDn,
      managedGroupPrefix: 'grantline-',
      connectTimeoutMs: 2_000,
    });
    opened.push(connector);
    await expect(connector.provision(op('provision', 'carol', 'grantline-ops'))).resolves.toEqual({ changed: true });

    await server.stop();
    await expect(connector.deprovision(op('deprovision', 'carol', 'grantline-ops'))).rejects.toMatchObject({ code: 'unavailable', errorClass: 'retriable' });
    await expect(connector.healthCheck()).resolves.toMatchObject({ status: 'down', error: { errorClass: 'retriable' } });

    await server.start();
    // the bound connection died with the server: the next call opens and binds a new one
    await expect(connector.healthCheck()).resolves.toMatchObject({ status: 'up' });
    await expect(connector.deprovision(op('deprovision', 'carol', 'grantline-ops'))).resolves.toEqual({ changed: true });
    expect((await connector.listActualState()).memberships).toEqual([]);
  });
});
