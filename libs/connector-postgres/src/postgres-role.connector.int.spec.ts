import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import {
  ConnectorError,
  ConnectorRunner,
  InMemoryIdempotencyStore,
  InMemorySecretSink,
  describeConnectorConformance,
  fingerprintSecret,
  runContractCommand,
} from '@grantline/connector-sdk';
import type { ConnectorOperation } from '@grantline/connector-sdk';
import { PostgresRoleConnector } from './postgres-role.connector';

const PG_URL = process.env['PG_URL'];
if (!PG_URL) {
  // Never skip: a green run without PostgreSQL would prove nothing about this connector.
  throw new Error(
    'PG_URL is not set. The test harness (libs/testing global setup) must export a PostgreSQL superuser URL, ' +
      'e.g. PG_URL=postgres://postgres:secret@127.0.0.1:5432/postgres',
  );
}
const pgUrl: string = PG_URL;

// Roles are cluster-wide, so isolation is by name: everything this file creates starts with RUN.
const RUN = `gl${randomBytes(3).toString('hex')}`;
const MANAGED_PREFIX = `${RUN}_grp_`;
const CREDENTIAL_PREFIX = `${RUN}_nhi_`;

const admin = new Client({ connectionString: pgUrl });
const opened: PostgresRoleConnector[] = [];
let fixtureSeq = 0;

function connectorFor(connectionString: string, id = 'postgres-test'): PostgresRoleConnector {
  const connector = new PostgresRoleConnector({
    id,
    connection: { connectionString, connectionTimeoutMillis: 3_000 },
    managedRoles: { prefix: MANAGED_PREFIX },
    credentialRolePrefix: CREDENTIAL_PREFIX,
  });
  opened.push(connector);
  return connector;
}

function urlWith(changes: { user?: string; password?: string; database?: string; port?: number }): string {
  const url = new URL(pgUrl);
  if (changes.user !== undefined) url.username = changes.user;
  if (changes.password !== undefined) url.password = changes.password;
  if (changes.database !== undefined) url.pathname = `/${changes.database}`;
  if (changes.port !== undefined) url.port = String(changes.port);
  return url.toString();
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function createRoles(names: readonly string[], attributes: string): Promise<void> {
  for (const name of names) await admin.query(`CREATE ROLE ${escapeIdentifier(name)} ${attributes}`);
}

async function membershipRows(group: string, member: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_auth_members am
     JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
     WHERE g.rolname = $1 AND m.rolname = $2`,
    [group, member],
  );
  return Number(rows[0]?.n);
}

function op(operation: ConnectorOperation['operation'], account: string, entitlementRef: string): ConnectorOperation {
  const grantId = `g-${randomBytes(4).toString('hex')}`;
  return { grantId, operation, idempotencyKey: `${grantId}:${operation}`, account, entitlementRef };
}

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  const { rows } = await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [`${RUN}_`]);
  for (const { rolname } of rows) await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(rolname)}`);
  await admin.end();
});

describeConnectorConformance('postgresql role membership', async () => {
  const n = (fixtureSeq += 1);
  const accounts = [`${RUN}_t${n}_alice`, `${RUN}_t${n}_bob`] as const;
  const entitlements = [`${MANAGED_PREFIX}t${n}_readers`, `${MANAGED_PREFIX}t${n}_writers`] as const;
  const unmanaged = `${RUN}_t${n}_unmanaged`;
  await createRoles(accounts, 'LOGIN');
  await createRoles([...entitlements, unmanaged], 'NOLOGIN');
  return {
    connector: connectorFor(pgUrl),
    accounts,
    entitlements,
    missingEntitlement: `${MANAGED_PREFIX}t${n}_missing`,
    unmanagedEntitlement: unmanaged,
    newCredentialAccount: `${CREDENTIAL_PREFIX}t${n}`,
    unreachableConnector: async () => connectorFor(urlWith({ port: await closedPort() }), 'postgres-down'),
    dispose: async () => undefined,
  };
});

describe('PostgresRoleConnector against PostgreSQL', () => {
  let connector: PostgresRoleConnector;
  let account: string;
  let group: string;

  beforeEach(async () => {
    const n = (fixtureSeq += 1);
    account = `${RUN}_p${n}_app`;
    group = `${MANAGED_PREFIX}p${n}_ops`;
    await createRoles([account], 'LOGIN');
    await createRoles([group], 'NOLOGIN');
    connector = connectorFor(pgUrl);
  });

  it('leaves exactly one pg_auth_members row after granting twice, and none after revoking', async () => {
    await connector.provision(op('provision', account, group));
    await connector.provision(op('provision', account, group));
    expect(await membershipRows(group, account)).toBe(1);
    await connector.deprovision(op('deprovision', account, group));
    expect(await membershipRows(group, account)).toBe(0);
  });

  it('grants once when the same membership is provisioned concurrently', async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => connector.provision(op('provision', account, group))));
    expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
    expect(await membershipRows(group, account)).toBe(1);
  });

  it('issues a short-lived login role: VALID UNTIL set, SCRAM verifier of the sink secret, working login', async () => {
    const credentialAccount = `${CREDENTIAL_PREFIX}${randomBytes(3).toString('hex')}`;
    const sink = new InMemorySecretSink();
    const expiresAt = new Date(Date.now() + 10 * 60_000);
    const issued = await connector.issueCredential(
      {
        credentialId: 'c1',
        idempotencyKey: 'c1:issue',
        type: 'database_role',
        grantId: 'g1',
        holders: [],
        account: credentialAccount,
        entitlementRefs: [group],
        expiresAt,
      },
      sink,
    );
    const secret = sink.read(issued.secretRef) ?? '';
    expect(issued.fingerprint).toBe(fingerprintSecret(secret));

    const { rows } = await admin.query<{ rolvaliduntil: Date; rolcanlogin: boolean; rolsuper: boolean; rolpassword: string }>(
      'SELECT rolvaliduntil, rolcanlogin, rolsuper, rolpassword FROM pg_authid WHERE rolname = $1',
      [credentialAccount],
    );
    const role = rows[0];
    expect(role).toMatchObject({ rolcanlogin: true, rolsuper: false });
    expect(role?.rolvaliduntil.toISOString()).toBe(expiresAt.toISOString());

    // The stored verifier belongs to the secret in the sink (recomputed here from its salt).
    const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(role?.rolpassword ?? '');
    expect(match).not.toBeNull();
    const [, iterations = '0', salt = '', storedKey = ''] = match ?? [];
    const salted = pbkdf2Sync(secret, Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(createHash('sha256').update(clientKey).digest('base64')).toBe(storedKey);

    const login = new Client({ connectionString: urlWith({ user: credentialAccount, password: secret }) });
    await login.connect();
    try {
      const who = await login.query<{ user: string; member: boolean }>('SELECT current_user AS user, pg_has_role(current_user, $1, $2) AS member', [
        group,
        'MEMBER',
      ]);
      expect(who.rows[0]).toEqual({ user: credentialAccount, member: true });
    } finally {
      await login.end();
    }
  });

  it('rotates on re-issue: new secret, new expiry, same role', async () => {
    const credentialAccount = `${CREDENTIAL_PREFIX}${randomBytes(3).toString('hex')}`;
    const sink = new InMemorySecretSink();
    const request = {
      credentialId: 'c2',
      idempotencyKey: 'c2:issue' as const,
      type: 'database_role',
      grantId: 'g2',
      holders: [],
      account: credentialAccount,
      entitlementRefs: [],
    };
    const first = await connector.issueCredential({ ...request, expiresAt: new Date(Date.now() + 60_000) }, sink);
    const laterExpiry = new Date(Date.now() + 120_000);
    const second = await connector.issueCredential({ ...request, expiresAt: laterExpiry }, sink);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    const { rows } = await admin.query<{ rolvaliduntil: Date }>('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [credentialAccount]);
    expect(rows.map((r) => r.rolvaliduntil.toISOString())).toEqual([laterExpiry.toISOString()]);
  });

  it('rotates a login after its break-glass use: the old password stops working, the new one is told to nobody, once per grant', async () => {
    const known = `old-${randomBytes(8).toString('hex')}`;
    await admin.query(`ALTER ROLE ${escapeIdentifier(account)} WITH PASSWORD ${escapeLiteral(known)}`);
    const passwordOf = async (): Promise<string | null> =>
      (await admin.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [account])).rows[0]?.rolpassword ?? null;
    const before = await passwordOf();
    const loginWith = async (password: string): Promise<void> => {
      const login = new Client({ connectionString: urlWith({ user: account, password }) });
      try {
        await login.connect();
      } finally {
        await login.end().catch(() => undefined);
      }
    };
    await loginWith(known);

    const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore() });
    const command = { grantId: 'bg-1', idempotencyKey: 'bg-1:rotate', account };
    const rotated = await runner.rotate(command);
    expect(rotated).toMatchObject({ status: 'rotated', grantId: 'bg-1', account, changed: true, replayed: false });
    const after = await passwordOf();
    expect(after).toMatch(/^SCRAM-SHA-256\$/);
    expect(after).not.toBe(before);
    // Nothing about the new secret leaves the connector: not its verifier, not a fingerprint.
    expect(JSON.stringify(rotated)).not.toMatch(/SCRAM|sha256:/);
    await expect(loginWith(known)).rejects.toThrow(/password authentication failed/);

    // The same grant's rotation again is the same side effect: answered from the store, the password left alone.
    expect(await runner.rotate(command)).toMatchObject({ status: 'rotated', replayed: true });
    expect(await passwordOf()).toBe(after);
  });

  it('has nothing to rotate for an absent login, and refuses to rotate its own login or a superuser', async () => {
    expect(await connector.rotateCredential({ grantId: 'bg-2', idempotencyKey: 'bg-2:rotate', account: `${RUN}_gone` })).toEqual({ changed: false });
    const self = new URL(pgUrl).username;
    await expect(connector.rotateCredential({ grantId: 'bg-3', idempotencyKey: 'bg-3:rotate', account: self })).rejects.toMatchObject({
      code: 'invalid_request',
      errorClass: 'terminal',
    });
  });

  it('never alters a role outside its credential prefix', async () => {
    const attempt = connector.issueCredential(
      {
        credentialId: 'c3',
        idempotencyKey: 'c3:issue',
        type: 'database_role',
        grantId: 'g3',
        holders: [],
        account,
        entitlementRefs: [],
        expiresAt: new Date(Date.now() + 60_000),
      },
      new InMemorySecretSink(),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'invalid_request', errorClass: 'terminal' });
    const { rows } = await admin.query('SELECT 1 FROM pg_authid WHERE rolname = $1 AND rolpassword IS NOT NULL', [account]);
    expect(rows).toHaveLength(0);
  });

  it('maps a connector login without CREATEROLE to a terminal permission_denied', async () => {
    const weak = `${RUN}_weak_${randomBytes(2).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await admin.query(`CREATE ROLE ${escapeIdentifier(weak)} LOGIN PASSWORD '${password}'`);
    const weakConnector = connectorFor(urlWith({ user: weak, password }));
    const error = await weakConnector.provision(op('provision', account, group)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code: 'permission_denied', errorClass: 'terminal', providerCode: '42501' });
    expect(await membershipRows(group, account)).toBe(0);
  });

  it('maps a missing database to a terminal not_found', async () => {
    const lost = connectorFor(urlWith({ database: `${RUN}_no_such_db` }));
    await expect(lost.listActualState()).rejects.toMatchObject({ code: 'not_found', errorClass: 'terminal', providerCode: '3D000' });
  });

  it('refuses an injection attempt in a name before reaching the server', async () => {
    const evil = `${group}" TO "${account}"; DROP ROLE "${account}`;
    await expect(connector.provision(op('provision', account, evil))).rejects.toMatchObject({ code: 'invalid_request' });
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [account]);
    expect(rowCount).toBe(1);
  });

  it('runs provision → replay → deprovision through the ConnectorRunner', async () => {
    const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore() });
    const grant = op('provision', account, group);
    await expect(runner.handle(grant)).resolves.toMatchObject({ status: 'provisioned', changed: true });
    await expect(runner.handle(grant)).resolves.toMatchObject({ status: 'provisioned', replayed: true });
    const revoke = { ...grant, operation: 'deprovision' as const, idempotencyKey: `${grant.grantId}:deprovision` as const };
    await expect(runner.handle(revoke)).resolves.toMatchObject({ status: 'deprovisioned', changed: true });
    expect(await membershipRows(group, account)).toBe(0);
  });

  it('mints an NHI database role from a contract provision command with a credential', async () => {
    const sink = new InMemorySecretSink();
    const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore(), secretSink: sink });
    const nhi = `${CREDENTIAL_PREFIX}${randomBytes(3).toString('hex')}`;
    const grantId = `g-${randomBytes(4).toString('hex')}`;
    const before = Date.now();
    const result = await runContractCommand(runner, {
      operation: 'provision',
      data: {
        commandId: `cmd-${grantId}`,
        connectorId: connector.id,
        grantId,
        targetAccount: nhi,
        entitlementRef: group,
        idempotencyKey: `${grantId}:provision`,
        expiresAt: new Date(before + 86_400_000).toISOString(),
        credential: { type: 'database_role', ttlSeconds: 900, holders: ['owner-of-ci'] },
      },
    });
    expect(result).toMatchObject({ kind: 'provisioned', data: { alreadyApplied: false, credential: { type: 'database_role' } } });
    const { rows } = await admin.query<{ rolvaliduntil: Date }>('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [nhi]);
    const validUntil = rows[0]?.rolvaliduntil.getTime() ?? 0;
    expect(validUntil).toBeGreaterThanOrEqual(before + 900_000 - 1);
    expect(validUntil).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(await membershipRows(group, nhi)).toBe(1);
    expect(JSON.stringify(result)).not.toContain(sink.read(`memory://${connector.id}/${grantId}`) ?? '<none>');
  });
});
