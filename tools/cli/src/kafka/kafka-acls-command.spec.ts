import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaSaslCredentials, ProvisionedKafkaNamespace } from '@grantline/messaging';
import { LOCAL_CONNECTORS } from '@grantline/testing';
import type { ScramUserChange } from '@grantline/testing';
import { bufferedOutput } from '../output';
import { applyKafkaAcls, connectorsOf, kafkaAclPlanFor, kafkaAclsUsageError, printKafkaAcls } from './kafka-acls-command';

const ADMIN_ENV = { KAFKA_SASL_USERNAME: 'grantline-admin', KAFKA_SASL_PASSWORD: 'a'.repeat(40) };

function fakeDeps(): { provision: jest.Mock; setUsers: jest.Mock; users: ScramUserChange[][] } {
  const users: ScramUserChange[][] = [];
  return {
    users,
    provision: jest.fn(async (): Promise<ProvisionedKafkaNamespace> => ({
      plan: { principals: [], bindings: [] },
      aclsCreated: 3,
      topics: ['t1', 't2'],
      removeAcls: async () => 0,
    })),
    setUsers: jest.fn(async (_admin: KafkaSaslCredentials, changes: readonly ScramUserChange[]) => void users.push([...changes])),
  };
}

describe('grantline kafka acls', () => {
  it.each([
    [{}, /exactly one of --print and --apply/],
    [{ print: true, apply: true }, /exactly one/],
    [{ print: true, users: 'x.json' }, /--users and --rotate go with --apply/],
    [{ apply: true, rotate: ['intake'] }, /--rotate needs --users/],
    [{ apply: true, connector: ['Bad'] }, /--connector Bad: expected <id>=<service>/],
  ])('refuses %j', (options, message) => {
    expect(kafkaAclsUsageError(options)).toMatch(message);
  });

  it('--print lists the principals and one line per ACL, on the namespaced names, without connecting', () => {
    const io = bufferedOutput();
    const plan = kafkaAclPlanFor({ print: true, connector: ['pg-main=connector-postgres'] }, 'local');
    expect(printKafkaAcls(plan, io)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines).toContain('# principal User:connector:pg-main (connector)');
    expect(lines).toContain('User:approval ALLOW write topic local.iga.approvals.v1 (literal)');
    expect(lines).toContain('User:connector:pg-main ALLOW read topic local.iga.connectors.pg-main.commands.v1 (literal)');
    expect(lines.filter((line) => line.includes('ALLOW write topic local.iga.approvals.v1'))).toEqual([
      'User:approval ALLOW write topic local.iga.approvals.v1 (literal)',
    ]);
    expect(io.stderr()).toMatch(/principal\(s\), \d+ ACL\(s\)/);
  });

  it('defaults to the local connectors', () => {
    expect(connectorsOf({})).toEqual(
      expect.arrayContaining([
        { id: 'postgres', service: 'connector-postgres' },
        { id: 'kafka-acl', service: 'connector-kafka-acl' },
      ]),
    );
    expect(connectorsOf({})).toEqual([...LOCAL_CONNECTORS]);
  });

  it('--apply needs the admin login', async () => {
    const io = bufferedOutput();
    const deps = fakeDeps();
    expect(await applyKafkaAcls({ apply: true }, kafkaAclPlanFor({}, undefined), {}, deps, io)).toBe(2);
    expect(deps.provision).not.toHaveBeenCalled();
    expect(io.stderr()).toMatch(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  it('--apply --users creates an owner-only users file, sets every principal, and never prints a password', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kafka-users-')), 'users.json');
    const plan = kafkaAclPlanFor({}, 'prod');
    const io = bufferedOutput();
    const deps = fakeDeps();
    expect(await applyKafkaAcls({ apply: true, users: file }, plan, ADMIN_ENV, deps, io)).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const users = (JSON.parse(readFileSync(file, 'utf8')) as { users: Record<string, string> }).users;
    expect(Object.keys(users).sort()).toEqual(plan.principals.map((p) => p.name).sort());
    expect(deps.users[0]?.map((c) => c.username).sort()).toEqual(Object.keys(users).sort());
    expect(io.stdout()).toMatch(/users: \d+ set on the broker \(\d+ new\)/);
    expect(io.stdout()).toMatch(/acls: 3 created/);
    for (const password of Object.values(users)) expect(io.stdout() + io.stderr()).not.toContain(password);

    // a second run keeps the passwords; --rotate replaces exactly the named one
    await applyKafkaAcls({ apply: true, users: file, rotate: ['intake'] }, plan, ADMIN_ENV, deps, bufferedOutput());
    const after = (JSON.parse(readFileSync(file, 'utf8')) as { users: Record<string, string> }).users;
    for (const name of Object.keys(users)) {
      if (name === 'intake') expect(after[name]).not.toBe(users[name]);
      else expect(after[name]).toBe(users[name]);
    }
    await expect(applyKafkaAcls({ apply: true, users: file, rotate: ['nobody'] }, plan, ADMIN_ENV, deps, bufferedOutput())).rejects.toThrow(
      /nobody: not a principal/,
    );
  });
});
