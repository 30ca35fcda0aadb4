import { performance } from 'node:perf_hooks';
import { Attribute, Change, Client } from 'ldapts';
import { ConnectorError } from '@grantline/connector-sdk';
import type {
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  HealthStatus,
  Membership,
  OperationOutcome,
} from '@grantline/connector-sdk';
import { ldapResultCode, toLdapConnectorError } from './ldap-error.classifier';
import { accountDn, accountOfMemberDn, assertBaseDn, assertLdapName, groupDn, isLdapName, normalizeDn } from './ldap-names';
import type { LdapLayout } from './ldap-names';

const NO_SUCH_ATTRIBUTE = 16;
const ATTRIBUTE_OR_VALUE_EXISTS = 20;
const OBJECT_CLASS_VIOLATION = 65;

export interface LdapGroupConnectorOptions {
  /** Connector id as used in topic names, e.g. `ldap`. */
  id: string;
  /** `ldap://host:port` or `ldaps://host:port`. */
  url: string;
  /** The connector's own bind: needs write access to `member` of the managed groups and read access to the accounts. */
  bindDn: string;
  /** Never logged, never in an error. */
  bindPassword: string;
  /** Groups are `cn=<entitlementRef>,<groupsBaseDn>` (objectClass groupOfNames). */
  groupsBaseDn: string;
  /** Accounts are `uid=<account>,<peopleBaseDn>`. */
  peopleBaseDn: string;
  /** Only groups whose cn starts with this are granted, revoked or listed; anything else is refused. */
  managedGroupPrefix: string;
  /**
   * The member a group keeps when its last real member is removed (groupOfNames requires at least one `member`).
   * Default `cn=grantline-placeholder,<peopleBaseDn>`: not a `uid=` DN, so it is never an account, never listed.
   */
  placeholderMemberDn?: string;
  /** Entries per page of the state report's paged search (RFC 2696). Default 500. */
  pageSize?: number;
  /** Per-operation timeout; default 10 s. */
  timeoutMs?: number;
  /** TCP connect timeout; default 5 s. */
  connectTimeoutMs?: number;
}

/**
 * LDAP group membership as entitlements: an entitlement is a `groupOfNames` under the groups base whose cn starts
 * with the managed prefix, an account is `uid=<account>` under the people base, provision adds the account's DN to
 * the group's `member`, deprovision removes it, and the state report is a paged search of the managed groups.
 */
export class LdapGroupConnector implements Connector {
  readonly id: string;
  private readonly layout: LdapLayout;
  private readonly prefix: string;
  private readonly placeholder: string;
  private readonly pageSize: number;
  private session: Promise<Client> | undefined;

  constructor(private readonly options: LdapGroupConnectorOptions) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(options.id)) throw new RangeError(`invalid connector id ${options.id}`);
    if (!/^ldaps?:\/\/[^/\s]+\/?$/.test(options.url)) throw new RangeError('url must be ldap://host:port or ldaps://host:port');
    // An empty prefix would make every group under the base grantable, including ones nobody meant to govern.
    if (options.managedGroupPrefix === '' || !isLdapName(options.managedGroupPrefix)) {
      throw new RangeError('managedGroupPrefix must be a non-empty LDAP name prefix ([A-Za-z0-9][A-Za-z0-9._-]*)');
    }
    this.id = options.id;
    this.layout = {
      groupsBaseDn: assertBaseDn(options.groupsBaseDn, 'groupsBaseDn'),
      peopleBaseDn: assertBaseDn(options.peopleBaseDn, 'peopleBaseDn'),
    };
    assertBaseDn(options.bindDn, 'bindDn');
    this.prefix = options.managedGroupPrefix;
    this.placeholder = assertBaseDn(options.placeholderMemberDn ?? `cn=grantline-placeholder,${this.layout.peopleBaseDn}`, 'placeholderMemberDn');
    if (accountOfMemberDn(this.layout, this.placeholder) !== undefined) throw new RangeError('placeholderMemberDn must not be an account DN (uid=...)');
    this.pageSize = options.pageSize ?? 500;
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'ldap',
      displayName: 'LDAP group membership (groupOfNames)',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: false,
      enforcesExpiry: false,
      rotateCredential: false,
    };
  }

  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    const group = this.managedGroupDn(op.entitlementRef);
    const member = accountDn(this.layout, assertLdapName(op.account, 'account'));
    return this.run(async (client) => {
      if (await client.compare(group, 'member', member)) return { changed: false };
      // A membership must name an entry that exists: a dangling DN would be access nobody can see or review.
      await this.expectAccount(client, op.account, member);
      try {
        await client.modify(group, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [member] }) }));
      } catch (error) {
        // a concurrent grant of the same membership won the race: the desired state holds
        if (ldapResultCode(error) === ATTRIBUTE_OR_VALUE_EXISTS) return { changed: false };
        throw error;
      }
      return { changed: true };
    });
  }

  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    const group = this.managedGroupDn(op.entitlementRef);
    const member = accountDn(this.layout, assertLdapName(op.account, 'account'));
    return this.run(async (client) => {
      try {
        // Absent membership or absent group: the desired state already holds.
        if (!(await client.compare(group, 'member', member))) return { changed: false };
      } catch (error) {
        if (ldapResultCode(error) === 32) return { changed: false };
        throw error;
      }
      return this.removeMember(client, group, member);
    });
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    const groups = scope.entitlementRefs?.filter((ref) => isLdapName(ref) && ref.startsWith(this.prefix));
    const accounts = scope.accounts?.filter(isLdapName);
    if (groups?.length === 0 || accounts?.length === 0) return { memberships: [] };
    const wanted = accounts === undefined ? undefined : new Set(accounts.map((account) => account.toLowerCase()));
    // Names are validated (no filter metacharacters), so they stand in the filter as they are.
    const filter = [
      '(&(objectClass=groupOfNames)',
      `(cn=${this.prefix}*)`,
      groups === undefined ? '' : `(|${groups.map((g) => `(cn=${g})`).join('')})`,
      accounts === undefined ? '' : `(|${accounts.map((a) => `(member=${accountDn(this.layout, a)})`).join('')})`,
      ')',
    ].join('');
    return this.run(async (client) => {
      const memberships: Membership[] = [];
      const pages = client.searchPaginated(this.layout.groupsBaseDn, {
        scope: 'one',
        filter,
        attributes: ['cn', 'member'],
        paged: { pageSize: this.pageSize },
      });
      for await (const page of pages) {
        for (const entry of page.searchEntries) {
          const cn = this.cnOf(entry.dn);
          // the search matched on any cn value; only the RDN's is the entitlement
          if (cn === undefined || !cn.startsWith(this.prefix)) continue;
          for (const value of valuesOf(entry['member'])) {
            const account = accountOfMemberDn(this.layout, value);
            if (account === undefined || (wanted !== undefined && !wanted.has(account.toLowerCase()))) continue;
            memberships.push({ account, entitlementRef: cn });
          }
        }
      }
      return { memberships: memberships.sort((a, b) => `${a.account}\0${a.entitlementRef}`.localeCompare(`${b.account}\0${b.entitlementRef}`)) };
    });
  }

  async healthCheck(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.run((client) => client.search(this.layout.groupsBaseDn, { scope: 'base', attributes: ['1.1'] }));
      return { status: 'up', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { status: 'down', latencyMs: Math.round(performance.now() - started), error: toLdapConnectorError(error) };
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const client = await session?.catch(() => undefined);
    await client?.unbind().catch(() => undefined);
  }

  private managedGroupDn(entitlementRef: string): string {
    const name = assertLdapName(entitlementRef, 'entitlement');
    if (!name.startsWith(this.prefix)) {
      throw new ConnectorError('invalid_request', `group ${name} is not managed by connector ${this.id} (managed groups start with ${this.prefix})`);
    }
    return groupDn(this.layout, name);
  }

  /** The cn of a direct child of the groups base, from its DN. */
  private cnOf(dn: string): string | undefined {
    const comma = dn.indexOf(',');
    if (comma < 0 || normalizeDn(dn.slice(comma + 1)) !== normalizeDn(this.layout.groupsBaseDn)) return undefined;
    const [attribute, value] = dn.slice(0, comma).split('=');
    return attribute?.trim().toLowerCase() === 'cn' && value !== undefined && isLdapName(value.trim()) ? value.trim() : undefined;
  }

  private async expectAccount(client: Client, account: string, dn: string): Promise<void> {
    try {
      await client.search(dn, { scope: 'base', attributes: ['1.1'] });
    } catch (error) {
      if (ldapResultCode(error) === 32)
        throw new ConnectorError('not_found', `account ${account} (${dn}) does not exist`, { providerCode: 'ldap:32 noSuchObject' });
      throw error;
    }
  }

  /**
   * Removes one member. groupOfNames must keep a `member`: when the server refuses to remove the last one
   * (objectClassViolation), the placeholder is added and the member removed in one modify, which is atomic.
   */
  private async removeMember(client: Client, group: string, member: string): Promise<OperationOutcome> {
    const remove = new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [member] }) });
    try {
      await client.modify(group, remove);
      return { changed: true };
    } catch (error) {
      const code = ldapResultCode(error);
      // a concurrent revoke of the same membership won the race
      if (code === NO_SUCH_ATTRIBUTE) return { changed: false };
      if (code !== OBJECT_CLASS_VIOLATION) throw error;
    }
    const keep = new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [this.placeholder] }) });
    try {
      await client.modify(group, [keep, remove]);
      return { changed: true };
    } catch (error) {
      const code = ldapResultCode(error);
      if (code === NO_SUCH_ATTRIBUTE) return { changed: false };
      // the placeholder arrived meanwhile (another revoke of this group): the member is no longer the last one
      if (code === ATTRIBUTE_OR_VALUE_EXISTS) {
        await client.modify(group, remove);
        return { changed: true };
      }
      throw error;
    }
  }

  /** Runs on the bound session (opened on first use, reopened after the server closed it); every error mapped. */
  private async run<T>(work: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await work(await this.client());
    } catch (error) {
      throw toLdapConnectorError(error);
    }
  }

  private async client(): Promise<Client> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const pending = (this.session ??= this.open());
      let client: Client;
      try {
        client = await pending;
      } catch (error) {
        if (this.session === pending) this.session = undefined;
        throw error;
      }
      if (client.isConnected && client.isBound) return client;
      // the server closed the connection since: open a new one (a reconnect without a bind would be anonymous)
      if (this.session === pending) this.session = undefined;
      await client.unbind().catch(() => undefined);
    }
    throw new ConnectorError('unavailable', 'the LDAP connection closed right after it was opened');
  }

  private async open(): Promise<Client> {
    const client = new Client({
      url: this.options.url,
      timeout: this.options.timeoutMs ?? 10_000,
      connectTimeout: this.options.connectTimeoutMs ?? 5_000,
    });
    try {
      await client.bind(this.options.bindDn, this.options.bindPassword);
      return client;
    } catch (error) {
      await client.unbind().catch(() => undefined);
      throw error;
    }
  }
}

function valuesOf(attribute: unknown): string[] {
  if (typeof attribute === 'string') return [attribute];
  if (Array.isArray(attribute)) return attribute.filter((value): value is string => typeof value === 'string');
  return [];
}
