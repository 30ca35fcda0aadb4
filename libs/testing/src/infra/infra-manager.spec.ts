import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infraPaths } from './infra.config';
import { acquireLease, otherLiveLeases, releaseLease, withInfraLock } from './infra-lock';
import { describeComponent, exportEndpoints, infraSelection, infraUp, readInfraState } from './infra-manager';
import type { ComponentRuntime } from './infra.types';

const kafka: ComponentRuntime = {
  component: 'kafka',
  mode: 'local',
  version: 'Apache Kafka 4.4.0',
  address: '127.0.0.1:19092',
  url: '127.0.0.1:19092',
  pid: 4242,
  startedAt: '2026-01-01T00:00:00.000Z',
};

const tempRoots: string[] = [];

function tempPaths(): ReturnType<typeof infraPaths> {
  const root = mkdtempSync(join(tmpdir(), 'grantline-infra-'));
  tempRoots.push(root);
  return infraPaths(root);
}

afterAll(() => {
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
});

describe('infra manager', () => {
  it('describes a component on one line with version, origin and address', () => {
    expect(describeComponent(kafka)).toBe('kafka: Apache Kafka 4.4.0 (local KRaft) at 127.0.0.1:19092');
    expect(describeComponent({ ...kafka, component: 'mongo', mode: 'env', version: 'MongoDB 7.0.14', address: 'db:27017' })).toBe(
      'mongo: MongoDB 7.0.14 (from MONGO_URL) at db:27017',
    );
  });

  it('exports endpoints under the variables services read', () => {
    const env: NodeJS.ProcessEnv = {};
    exportEndpoints([kafka, { ...kafka, component: 'postgres', url: 'postgres://u:p@127.0.0.1:15432/postgres' }], env);
    expect(env).toEqual({ KAFKA_BROKERS: '127.0.0.1:19092', PG_URL: 'postgres://u:p@127.0.0.1:15432/postgres' });
  });

  it("exports the harness directory's URL, admin bind and branches for LDAP, and only the URL of one given through env", () => {
    const paths = tempPaths();
    mkdirSync(paths.data, { recursive: true });
    const passwordFile = join(paths.data, 'admin.password');
    writeFileSync(passwordFile, 'ldap-admin-secret');
    const ldap: ComponentRuntime = { ...kafka, component: 'ldap', url: 'ldap://127.0.0.1:13389', credentialsFile: passwordFile };
    const env: NodeJS.ProcessEnv = {};
    exportEndpoints([ldap], env);
    expect(env).toEqual({
      LDAP_URL: 'ldap://127.0.0.1:13389',
      LDAP_BIND_DN: 'cn=admin,dc=grantline,dc=test',
      LDAP_BIND_PASSWORD: 'ldap-admin-secret',
      LDAP_GROUPS_BASE_DN: 'ou=groups,dc=grantline,dc=test',
      LDAP_PEOPLE_BASE_DN: 'ou=people,dc=grantline,dc=test',
    });
    const given: NodeJS.ProcessEnv = {};
    exportEndpoints([{ ...ldap, mode: 'env', credentialsFile: undefined }], given);
    expect(given).toEqual({ LDAP_URL: 'ldap://127.0.0.1:13389' });
  });

  it('does nothing with GRANTLINE_INFRA=none and rejects unknown selections', async () => {
    await expect(infraUp({ owner: 'jest', env: { GRANTLINE_INFRA: 'none' }, paths: tempPaths() })).resolves.toEqual({
      components: [],
      started: [],
      reused: [],
    });
    expect(() => infraSelection({ GRANTLINE_INFRA: 'podman' })).toThrow(/not one of/);
  });

  it('refuses a corrupt state file instead of guessing', () => {
    const paths = tempPaths();
    mkdirSync(paths.data, { recursive: true });
    writeFileSync(paths.stateFile, JSON.stringify({ owner: 'someone', components: {} }));
    expect(() => readInfraState(paths)).toThrow(/not a valid infra state/);
  });
});

describe('infra lock and leases', () => {
  it('runs critical sections one at a time', async () => {
    const paths = tempPaths();
    const events: string[] = [];
    const section = (name: string) => async (): Promise<void> => {
      events.push(`${name}:in`);
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`${name}:out`);
    };
    await Promise.all([withInfraLock(paths, () => undefined, section('a')), withInfraLock(paths, () => undefined, section('b'))]);
    expect(events).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);
  });

  it('takes over a lock left by a dead process', async () => {
    const paths = tempPaths();
    mkdirSync(paths.lockDir, { recursive: true });
    writeFileSync(join(paths.lockDir, 'pid'), '2147483646');
    await expect(
      withInfraLock(
        paths,
        () => undefined,
        async () => 'ran',
        2000,
      ),
    ).resolves.toBe('ran');
  });

  it('counts only leases of other live processes', () => {
    const paths = tempPaths();
    acquireLease(paths);
    acquireLease(paths, process.ppid);
    acquireLease(paths, 2147483646);
    expect(otherLiveLeases(paths)).toEqual([process.ppid]);
    releaseLease(paths, process.ppid);
    expect(otherLiveLeases(paths)).toEqual([]);
  });
});
