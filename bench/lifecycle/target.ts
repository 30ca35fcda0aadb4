import { Client, escapeIdentifier } from 'pg';

/**
 * The PostgreSQL target as the connector expects it: the catalogue's group role exists (shared by every run, never
 * dropped) and each beneficiary has a login role named after its identity id (the provisioning service's default
 * target account: the id lower-cased, anything but [a-z0-9_] as `_`). The connector only grants and revokes
 * membership; it never creates people's logins, so the bench does, and drops them at the end.
 */
export class PostgresTarget {
  private readonly logins: string[] = [];

  private constructor(private readonly client: Client) {}

  static async connect(): Promise<PostgresTarget> {
    const url = process.env['PG_URL'];
    if (url === undefined || url === '') throw new Error('PG_URL is not set after infrastructure setup');
    const client = new Client({ connectionString: url, application_name: 'grantline-bench' });
    await client.connect();
    return new PostgresTarget(client);
  }

  async ensureGroupRole(role: string): Promise<void> {
    // Another run creating it at the same moment is fine: duplicate_object is what we wanted.
    await this.client.query(`DO $$ BEGIN CREATE ROLE ${escapeIdentifier(role)} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  }

  /** Login roles in batches of 500 statements per round trip. */
  async createLogins(logins: readonly string[]): Promise<void> {
    for (let i = 0; i < logins.length; i += 500) {
      const batch = logins.slice(i, i + 500);
      await this.client.query(batch.map((login) => `CREATE ROLE ${escapeIdentifier(login)} LOGIN;`).join('\n'));
      this.logins.push(...batch);
    }
  }

  /** How many of the logins are members of the group now, from pg_auth_members (one query per call). */
  async membersOf(group: string, logins: readonly string[]): Promise<number> {
    const result = await this.client.query<{ n: string }>(
      `SELECT count(DISTINCT u.rolname) AS n FROM pg_auth_members m
         JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE g.rolname = $1 AND u.rolname = ANY($2::text[])`,
      [group, [...logins]],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /** Drops the logins this run created (their memberships go with them), then disconnects. */
  async close(): Promise<void> {
    try {
      for (let i = 0; i < this.logins.length; i += 500) {
        const batch = this.logins.slice(i, i + 500);
        await this.client.query(batch.map((login) => `DROP ROLE IF EXISTS ${escapeIdentifier(login)};`).join('\n'));
      }
    } finally {
      await this.client.end();
    }
  }
}
