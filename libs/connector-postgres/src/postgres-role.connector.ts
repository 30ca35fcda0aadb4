import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool, escapeLiteral } from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import { ConnectorError, fingerprintSecret } from '@grantline/connector-sdk';
import type {
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  CredentialRequest,
  HealthStatus,
  IssuedCredential,
  OperationOutcome,
  RotationOperation,
  SecretSink,
} from '@grantline/connector-sdk';
import { toPostgresConnectorError } from './postgres-error.classifier';
import { assertRoleName, quoteRole } from './postgres-identifier';
import { scramSha256Verifier } from './scram-verifier';

export interface ManagedRoles {
  /** Group roles whose name starts with this are managed. */
  prefix?: string;
  /** Group roles managed by exact name. */
  names?: readonly string[];
}

export interface PostgresRoleConnectorOptions {
  /** Connector id as used in topic names, e.g. `postgres-billing`. */
  id: string;
  /** Where to connect. The role needs CREATEROLE (PG 16+: ADMIN OPTION on the managed groups). */
  connection: PoolConfig;
  /** The only group roles this connector may grant, revoke or list. */
  managedRoles: ManagedRoles;
  /** Login roles created by issueCredential must start with this; existing roles outside it are never altered. */
  credentialRolePrefix?: string;
  statementTimeoutMs?: number;
}

/** A membership in the catalog, regardless of who granted it (PG 16 allows several grantors). */
const MEMBERSHIP_SQL = `
  SELECT 1 FROM pg_catalog.pg_auth_members am
  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
  JOIN pg_catalog.pg_roles m ON m.oid = am.member
  WHERE g.rolname = $1 AND m.rolname = $2
  LIMIT 1`;

const LIST_SQL = `
  SELECT DISTINCT m.rolname AS account, g.rolname AS entitlement
  FROM pg_catalog.pg_auth_members am
  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
  JOIN pg_catalog.pg_roles m ON m.oid = am.member
  WHERE (($1::text IS NOT NULL AND starts_with(g.rolname, $1::text)) OR g.rolname = ANY($2::text[]))
    AND ($3::text[] IS NULL OR m.rolname = ANY($3::text[]))
    AND ($4::text[] IS NULL OR g.rolname = ANY($4::text[]))
  ORDER BY 1, 2`;

/**
 * PostgreSQL role membership as entitlements: provision = GRANT group TO login,
 * deprovision = REVOKE, actual state from pg_auth_members, and short-lived login roles
 * (VALID UNTIL) as NHI credentials.
 */
export class PostgresRoleConnector implements Connector {
  readonly id: string;
  private readonly pool: Pool;
  private readonly managed: ManagedRoles;
  private readonly credentialRolePrefix: string | undefined;

  constructor(options: PostgresRoleConnectorOptions) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(options.id)) throw new RangeError(`invalid connector id ${options.id}`);
    if (!options.managedRoles.prefix && !options.managedRoles.names?.length) {
      // An empty managed set would make list and revoke silently see nothing.
      throw new RangeError('managedRoles needs a prefix or at least one name');
    }
    options.managedRoles.names?.forEach((name) => assertRoleName(name, 'managed role'));
    this.id = options.id;
    this.managed = options.managedRoles;
    this.credentialRolePrefix = options.credentialRolePrefix;
    this.pool = new Pool({
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      max: 4,
      statement_timeout: options.statementTimeoutMs ?? 15_000,
      lock_timeout: 5_000,
      application_name: `grantline-connector-${options.id}`,
      ...options.connection,
    });
    // An idle client losing its socket must not crash the process; the next call reports it.
    this.pool.on('error', () => undefined);
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'postgresql',
      displayName: 'PostgreSQL role membership',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: true,
      enforcesExpiry: false,
      rotateCredential: true,
    };
  }

  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    const group = this.assertManaged(op.entitlementRef);
    const member = quoteRole(op.account, 'account');
    return this.transaction(op.entitlementRef, op.account, async (client) => {
      if (await this.isMember(client, op.entitlementRef, op.account)) return { changed: false };
      await client.query(`GRANT ${group} TO ${member}`);
      return { changed: true };
    });
  }

  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    const group = this.assertManaged(op.entitlementRef);
    const member = quoteRole(op.account, 'account');
    return this.transaction(op.entitlementRef, op.account, async (client) => {
      // Absent role or absent membership: the desired state already holds.
      if (!(await this.isMember(client, op.entitlementRef, op.account))) return { changed: false };
      await client.query(`REVOKE ${group} FROM ${member}`);
      if (await this.isMember(client, op.entitlementRef, op.account)) {
        // PG 16+ REVOKE only removes our own grant; another grantor's still gives access.
        throw new ConnectorError('conflict', `${op.account} is still a member of ${op.entitlementRef} through a grant this connector did not make`);
      }
      return { changed: true };
    });
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    const params = [
      this.managed.prefix ?? null,
      [...(this.managed.names ?? [])],
      scope.accounts ? [...scope.accounts] : null,
      scope.entitlementRefs ? [...scope.entitlementRefs] : null,
    ];
    try {
      const { rows } = await this.pool.query<{ account: string; entitlement: string }>(LIST_SQL, params);
      return { memberships: rows.map((row) => ({ account: row.account, entitlementRef: row.entitlement })) };
    } catch (error) {
      throw toPostgresConnectorError(error);
    }
  }

  async issueCredential(request: CredentialRequest, sink: SecretSink): Promise<IssuedCredential> {
    const prefix = this.credentialRolePrefix;
    if (!prefix || !request.account.startsWith(prefix)) {
      throw new ConnectorError(
        'invalid_request',
        prefix ? `credential account ${request.account} must start with ${prefix}` : 'this connector has no credentialRolePrefix, so it issues no credentials',
      );
    }
    const account = quoteRole(request.account, 'credential account');
    const groups = request.entitlementRefs.map((ref) => ({ ref, quoted: this.assertManaged(ref) }));
    if (Number.isNaN(request.expiresAt.getTime())) throw new ConnectorError('invalid_request', 'expiresAt is not a date');

    const secret = randomBytes(32).toString('base64url');
    // Sink first: a role must never exist with a password nobody can retrieve.
    const secretRef = await sink.put({
      connectorId: this.id,
      credentialId: request.credentialId,
      type: request.type,
      grantId: request.grantId,
      holders: request.holders,
      secret,
      expiresAt: request.expiresAt,
    });
    const attributes = `LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${escapeLiteral(
      scramSha256Verifier(secret),
    )} VALID UNTIL ${escapeLiteral(request.expiresAt.toISOString())}`;

    await this.transaction(request.account, request.account, async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [request.account]);
      // Re-issuing rotates: same role, new secret, new expiry.
      await client.query(exists.rowCount ? `ALTER ROLE ${account} WITH ${attributes}` : `CREATE ROLE ${account} WITH ${attributes}`);
      for (const group of groups) {
        if (!(await this.isMember(client, group.ref, request.account))) await client.query(`GRANT ${group.quoted} TO ${account}`);
      }
    });
    return {
      credentialId: request.credentialId,
      account: request.account,
      secretRef,
      fingerprint: fingerprintSecret(secret),
      expiresAt: request.expiresAt,
    };
  }

  /**
   * Resets the login's password to 32 random bytes that are told to nobody: only their SCRAM verifier reaches the
   * server, and neither the secret nor a fingerprint leaves this method. The connector's own login and superusers are
   * refused (rotating them would lock Grantline or an administrator out); an absent role has nothing to rotate.
   */
  async rotateCredential(op: RotationOperation): Promise<OperationOutcome> {
    const account = quoteRole(op.account, 'account');
    return this.transaction(op.account, op.account, async (client) => {
      const { rows } = await client.query<{ rolsuper: boolean; self: boolean }>(
        'SELECT rolsuper, rolname = current_user AS self FROM pg_catalog.pg_roles WHERE rolname = $1',
        [op.account],
      );
      const role = rows[0];
      if (!role) return { changed: false };
      if (role.self || role.rolsuper) {
        throw new ConnectorError('invalid_request', `${op.account} is ${role.self ? "the connector's own login" : 'a superuser'}: its password is not rotated`);
      }
      const verifier = scramSha256Verifier(randomBytes(32).toString('base64url'));
      await client.query(`ALTER ROLE ${account} WITH PASSWORD ${escapeLiteral(verifier)}`);
      return { changed: true };
    });
  }

  async healthCheck(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.pool.query('SELECT 1');
      return { status: 'up', latencyMs: performance.now() - started };
    } catch (error) {
      return { status: 'down', latencyMs: performance.now() - started, error: toPostgresConnectorError(error) };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private assertManaged(entitlementRef: string): string {
    const quoted = quoteRole(entitlementRef, 'entitlement');
    const { prefix, names } = this.managed;
    if ((prefix && entitlementRef.startsWith(prefix)) || names?.includes(entitlementRef)) return quoted;
    throw new ConnectorError('invalid_request', `${entitlementRef} is not a group role managed by connector ${this.id}`);
  }

  private async isMember(client: PoolClient, group: string, member: string): Promise<boolean> {
    const { rowCount } = await client.query(MEMBERSHIP_SQL, [group, member]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * One transaction per change, serialised per (group, member) by an advisory lock so two
   * deliveries racing across instances cannot both decide "not yet a member".
   */
  private async transaction<T>(group: string, member: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toPostgresConnectorError(error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`grantline:${group}:${member}`]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; do not return it to the pool
      }
      throw toPostgresConnectorError(error);
    } finally {
      client.release(broken);
    }
  }
}
