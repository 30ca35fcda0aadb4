import { randomBytes } from 'node:crypto';
import { Client } from 'ldapts';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real directory
import { LdapGroupConnector } from '@grantline/connector-ldap';
import { expectChanged, timed } from './connector-latency';
import type { LatencyTarget } from './connector-latency';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`the LDAP bench needs ${name} (the harness's slapd exports it after infrastructure setup)`);
  return value;
}

/**
 * The LDAP groups connector against the harness's slapd (Debian packages, loopback). Baseline: one bare base-scope
 * search of the group's `member` values. A grant is read group → add `member`; a revoke is read group → delete
 * `member`; each on a fresh person.
 */
export async function ldapTarget(): Promise<LatencyTarget> {
  const target = {
    url: requiredEnv('LDAP_URL'),
    bindDn: requiredEnv('LDAP_BIND_DN'),
    bindPassword: requiredEnv('LDAP_BIND_PASSWORD'),
    groupsBaseDn: requiredEnv('LDAP_GROUPS_BASE_DN'),
    peopleBaseDn: requiredEnv('LDAP_PEOPLE_BASE_DN'),
  };
  const run = `glbench${randomBytes(3).toString('hex')}`;
  const group = `${run}-grp-ops`;
  const groupDn = `cn=${group},${target.groupsBaseDn}`;
  const personDn = (uid: string): string => `uid=${uid},${target.peopleBaseDn}`;
  const placeholder = `cn=grantline-placeholder,${target.peopleBaseDn}`;
  const admin = new Client({ url: target.url, timeout: 10_000 });
  await admin.bind(target.bindDn, target.bindPassword);
  const created: string[] = [];
  await admin.add(groupDn, { objectClass: ['groupOfNames'], cn: group, member: [placeholder] });
  created.push(groupDn);
  const connector = new LdapGroupConnector({ id: 'ldap', ...target, managedGroupPrefix: `${run}-grp-` });
  return {
    name: 'ldap',
    baseline: 'one base search of the group',
    steps: { grant: 'grant (read group, add member)', noopGrant: 'grant again (no-op)', revoke: 'revoke (read group, delete member)' },
    async round(index) {
      const uid = `${run}-p${index + 5}`;
      await admin.add(personDn(uid), { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
      created.push(personDn(uid));
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${uid}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${uid}`, operation),
        account: uid,
        entitlementRef: group,
      });
      return {
        baseline: await timed(() => admin.search(groupDn, { scope: 'base', attributes: ['member'] })),
        grant: await timed(async () => expectChanged(await connector.provision(op('provision')), true, 'a grant to a fresh person')),
        noopGrant: await timed(async () => expectChanged(await connector.provision(op('provision')), false, 'a repeated grant')),
        revoke: await timed(async () => expectChanged(await connector.deprovision(op('deprovision')), true, 'a revoke of a live membership')),
      };
    },
    async close() {
      await connector.close();
      for (const dn of created.reverse()) await admin.del(dn).catch(() => undefined);
      await admin.unbind().catch(() => undefined);
    },
  };
}
