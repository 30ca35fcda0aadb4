import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real database
import { PostgresRoleConnector } from '@grantline/connector-postgres';
import { expectChanged, timed } from './connector-latency';
import type { LatencyTarget } from './connector-latency';

const MEMBERSHIP_SQL = `SELECT 1 FROM pg_catalog.pg_auth_members am
  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
  WHERE g.rolname = $1 AND m.rolname = $2`;

/**
 * The PostgreSQL role-membership connector against the harness's PostgreSQL. Baseline: the membership lookup the
 * connector's own check runs, as one bare query. A grant is check → GRANT; a revoke is check → REVOKE; each on a
 * fresh login role.
 */
export async function postgresTarget(): Promise<LatencyTarget> {
  const url = process.env['PG_URL'];
  if (!url) throw new Error('the PostgreSQL bench needs PG_URL (the harness exports it after infrastructure setup)');
  const run = `glbench${randomBytes(3).toString('hex')}`;
  const group = `${run}_grp_ops`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${escapeIdentifier(group)} NOLOGIN`);
  const connector = new PostgresRoleConnector({ id: 'postgres', connection: { connectionString: url }, managedRoles: { prefix: `${run}_grp_` } });
  return {
    name: 'postgres',
    baseline: 'one membership lookup',
    steps: { grant: 'grant (check, GRANT)', noopGrant: 'grant again (no-op)', revoke: 'revoke (check, REVOKE)' },
    async round(index) {
      const account = `${run}_u${index + 5}`;
      await admin.query(`CREATE ROLE ${escapeIdentifier(account)} LOGIN`);
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${account}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${account}`, operation),
        account,
        entitlementRef: group,
      });
      return {
        baseline: await timed(() => admin.query(MEMBERSHIP_SQL, [group, account])),
        grant: await timed(async () => expectChanged(await connector.provision(op('provision')), true, 'a grant to a fresh login')),
        noopGrant: await timed(async () => expectChanged(await connector.provision(op('provision')), false, 'a repeated grant')),
        revoke: await timed(async () => expectChanged(await connector.deprovision(op('deprovision')), true, 'a revoke of a live membership')),
      };
    },
    async close() {
      await connector.close();
      const { rows } = await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [`${run}_`]);
      for (const { rolname } of rows) await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(rolname)}`).catch(() => undefined);
      await admin.end();
    },
  };
}
