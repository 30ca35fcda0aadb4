import { Client, escapeIdentifier } from 'pg';

const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

function isAlreadyThere(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === DUPLICATE_OBJECT || code === UNIQUE_VIOLATION;
}

/**
 * The target system as an auditor would look at it: roles and memberships in PostgreSQL's own catalog tables,
 * never what Grantline says about them.
 */
export class PostgresTarget {
  private readonly createdLogins: string[] = [];

  private constructor(private readonly client: Client) {}

  static async connect(url = process.env['PG_URL']): Promise<PostgresTarget> {
    if (url === undefined || url === '') throw new Error("PG_URL is not set: e2e specs need jest's global setup");
    const client = new Client({ connectionString: url });
    await client.connect();
    return new PostgresTarget(client);
  }

  /**
   * The group roles the catalogue's entitlements name (externalRef). Shared by every run and created once;
   * two runs creating one at the same moment is fine.
   */
  async ensureGroupRoles(roles: readonly string[]): Promise<void> {
    for (const role of roles) {
      const exists = await this.client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount) continue;
      try {
        await this.client.query(`CREATE ROLE ${escapeIdentifier(role)} NOLOGIN`);
      } catch (error) {
        if (!isAlreadyThere(error)) throw error;
      }
    }
  }

  /** The login role of a subject (the connector grants group roles to it; it never creates people's logins). */
  async createLogin(role: string): Promise<void> {
    await this.client.query(`CREATE ROLE ${escapeIdentifier(role)} LOGIN`);
    this.createdLogins.push(role);
  }

  /** The group roles the login is a member of, from pg_auth_members. */
  async groupsOf(login: string): Promise<string[]> {
    const result = await this.client.query<{ rolname: string }>(
      `SELECT g.rolname FROM pg_auth_members m
         JOIN pg_roles g ON g.oid = m.roleid
         JOIN pg_roles u ON u.oid = m.member
        WHERE u.rolname = $1
        ORDER BY g.rolname`,
      [login],
    );
    return result.rows.map((row) => row.rolname);
  }

  async isMember(login: string, group: string): Promise<boolean> {
    return (await this.groupsOf(login)).includes(group);
  }

  /** What an administrator does by hand, outside Grantline: reconciliation must notice it. */
  async grantOutsideGrantline(group: string, login: string): Promise<void> {
    await this.client.query(`GRANT ${escapeIdentifier(group)} TO ${escapeIdentifier(login)}`);
  }

  /** What an administrator does by hand, outside Grantline: reconciliation must notice it. */
  async revokeOutsideGrantline(group: string, login: string): Promise<void> {
    await this.client.query(`REVOKE ${escapeIdentifier(group)} FROM ${escapeIdentifier(login)}`);
  }

  /** Drops the login roles this helper created (their memberships go with them), then disconnects. */
  async close(): Promise<void> {
    for (const role of this.createdLogins) {
      await this.client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`).catch(() => undefined);
    }
    await this.client.end();
  }
}
