import { performance } from 'node:perf_hooks';
import { ConnectorError } from '@grantline/connector-sdk';
import type {
  AccountDeactivationOperation,
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  HealthStatus,
  Membership,
  OperationOutcome,
} from '@grantline/connector-sdk';
import { ScimHttpError, ScimProtocolError, toScimConnectorError } from './scim-error.classifier';

export interface ManagedGroups {
  /** Groups whose displayName starts with this are managed. */
  prefix?: string;
  /** Groups managed by exact displayName. */
  names?: readonly string[];
}

export interface ScimGroupConnectorOptions {
  /** Connector id as used in topic names, e.g. `scim`. */
  id: string;
  /** The service provider's SCIM base, e.g. `https://crm.example.com/scim/v2` (no trailing slash needed). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer ...`; never logged, never part of an error. */
  bearerToken: string;
  /** The only groups (by displayName) this connector may change or list. */
  managedGroups: ManagedGroups;
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  /** `count` asked for per page when listing. */
  pageSize?: number;
  /** Injected for specs; Node's global fetch otherwise. */
  fetch?: typeof fetch;
}

interface ScimMember {
  value: string;
  display?: string;
}

interface ScimGroup {
  id: string;
  displayName: string;
  members?: ScimMember[];
  meta?: { version?: string };
}

interface ScimUser {
  id: string;
  userName: string;
  active?: boolean;
  meta?: { version?: string };
}

interface ScimListResponse<T> {
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources?: T[];
}

interface RequestOptions {
  body?: unknown;
  /** The version the change is based on (RFC 7644 §3.14): the server refuses it with 412 if the resource moved on. */
  ifMatch?: string;
}

const SCIM_JSON = 'application/scim+json';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/**
 * What an account (userName) or entitlement (displayName) may look like: every value ends up inside a SCIM filter
 * string, and a conservative alphabet keeps quoting out of the question (no injection into the filter).
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,255}$/;

function assertName(value: string, what: string): void {
  if (!NAME.test(value)) throw new ConnectorError('invalid_request', `${what} ${JSON.stringify(value)} is not a name this connector sends to a SCIM filter`);
}

const eq = (attribute: string, value: string): string => `${attribute} eq "${value}"`;

/**
 * SCIM 2.0 group membership as entitlements (RFC 7643/7644): provision = PATCH the group adding the user as a
 * member, deprovision = PATCH removing `members[value eq "<id>"]`, both after reading the group (check-then-change)
 * and with `If-Match` on the version read when the server offers versions. Accounts are SCIM `userName`s resolved to
 * ids by filter; entitlements are group `displayName`s under a managed prefix. Actual state by paged listing.
 */
export class ScimGroupConnector implements Connector {
  readonly id: string;
  private readonly baseUrl: string;
  private readonly bearerToken: string;
  private readonly managed: ManagedGroups;
  private readonly requestTimeoutMs: number;
  private readonly pageSize: number;
  private readonly fetch: typeof fetch;

  constructor(options: ScimGroupConnectorOptions) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(options.id)) throw new RangeError(`invalid connector id ${options.id}`);
    if (!options.managedGroups.prefix && !options.managedGroups.names?.length) {
      // An empty managed set would make list and revoke silently see nothing.
      throw new RangeError('managedGroups needs a prefix or at least one name');
    }
    if (options.managedGroups.prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.managedGroups.prefix)) {
      throw new RangeError('managedGroups.prefix may hold letters, digits, dot, underscore and hyphen only');
    }
    options.managedGroups.names?.forEach((name) => {
      if (!NAME.test(name)) throw new RangeError(`managed group name ${JSON.stringify(name)} is not a valid name`);
    });
    const url = new URL(options.baseUrl); // throws on a malformed URL
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError('baseUrl must be http(s)');
    if (options.bearerToken === '') throw new RangeError('bearerToken is empty');
    this.id = options.id;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.bearerToken = options.bearerToken;
    this.managed = options.managedGroups;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.pageSize = options.pageSize ?? 100;
    this.fetch = options.fetch ?? fetch;
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'scim2',
      displayName: 'SCIM 2.0 group membership',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: false,
      enforcesExpiry: false,
      rotateCredential: false,
      deactivateAccount: true,
    };
  }

  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.assertManaged(op.entitlementRef);
    assertName(op.account, 'account');
    return this.mapped(async () => {
      const user = await this.findUser(op.account);
      if (user === undefined) throw new ConnectorError('not_found', `account ${op.account} has no user in the SCIM application`);
      const group = await this.findGroup(op.entitlementRef);
      if (group === undefined) throw new ConnectorError('not_found', `group ${op.entitlementRef} does not exist in the SCIM application`);
      if ((group.members ?? []).some((member) => member.value === user.id)) return { changed: false };
      await this.patch(`/Groups/${encodeURIComponent(group.id)}`, [{ op: 'add', path: 'members', value: [{ value: user.id }] }], group.meta?.version);
      return { changed: true };
    });
  }

  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.assertManaged(op.entitlementRef);
    assertName(op.account, 'account');
    return this.mapped(async () => {
      // Absent user, absent group or absent membership: the desired state already holds.
      const user = await this.findUser(op.account);
      if (user === undefined) return { changed: false };
      const group = await this.findGroup(op.entitlementRef);
      if (group === undefined || !(group.members ?? []).some((member) => member.value === user.id)) return { changed: false };
      await this.patch(`/Groups/${encodeURIComponent(group.id)}`, [{ op: 'remove', path: `members[${eq('value', user.id)}]` }], group.meta?.version);
      return { changed: true };
    });
  }

  /**
   * Deactivates the account (`active: false`), the SCIM way to cut a leaver off everywhere in the application at
   * once; the user is kept so what it did stays attributable. Provisioning asks it once per leaver (docs/adr/0036).
   * An absent or already inactive user is `changed: false`.
   */
  async deactivateAccount(op: AccountDeactivationOperation): Promise<OperationOutcome> {
    const { account } = op;
    assertName(account, 'account');
    return this.mapped(async () => {
      const user = await this.findUser(account);
      if (user === undefined || user.active === false) return { changed: false };
      await this.patch(`/Users/${encodeURIComponent(user.id)}`, [{ op: 'replace', path: 'active', value: false }], user.meta?.version);
      return { changed: true };
    });
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    return this.mapped(async () => {
      const wantedRefs = scope.entitlementRefs === undefined ? undefined : new Set(scope.entitlementRefs);
      const groups = (await this.managedGroups()).filter((group) => wantedRefs === undefined || wantedRefs.has(group.displayName));
      const userNames = await this.userNamesById(scope.accounts);
      const memberships: Membership[] = [];
      for (const group of groups) {
        for (const member of group.members ?? []) {
          const account = userNames.get(member.value);
          // Outside the scope's accounts; or a member that is no user (a nested group): not an account's grant.
          if (account !== undefined) memberships.push({ account, entitlementRef: group.displayName });
        }
      }
      memberships.sort((a, b) => a.account.localeCompare(b.account) || a.entitlementRef.localeCompare(b.entitlementRef));
      return { memberships };
    });
  }

  async healthCheck(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.request('GET', '/ServiceProviderConfig');
      return { status: 'up', latencyMs: performance.now() - started };
    } catch (error) {
      return { status: 'down', latencyMs: performance.now() - started, error: toScimConnectorError(error) };
    }
  }

  private assertManaged(entitlementRef: string): void {
    assertName(entitlementRef, 'entitlement');
    const { prefix, names } = this.managed;
    if ((prefix && entitlementRef.startsWith(prefix)) || names?.includes(entitlementRef)) return;
    throw new ConnectorError('invalid_request', `${entitlementRef} is not a group managed by connector ${this.id}`);
  }

  private async mapped<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toScimConnectorError(error);
    }
  }

  private async findUser(userName: string): Promise<ScimUser | undefined> {
    const users = await this.list<ScimUser>('/Users', eq('userName', userName), 2);
    return users.find((user) => user.userName === userName) ?? users.find((user) => user.userName.toLowerCase() === userName.toLowerCase());
  }

  private async findGroup(displayName: string): Promise<ScimGroup | undefined> {
    const groups = await this.list<ScimGroup>('/Groups', eq('displayName', displayName), 2);
    // displayName is not case-exact in SCIM; an entitlement names one group exactly.
    return groups.find((group) => group.displayName === displayName);
  }

  private async managedGroups(): Promise<ScimGroup[]> {
    const { prefix, names } = this.managed;
    const found = new Map<string, ScimGroup>();
    const keep = (group: ScimGroup): void => {
      if ((prefix && group.displayName.startsWith(prefix)) || names?.includes(group.displayName)) found.set(group.id, group);
    };
    if (prefix) (await this.list<ScimGroup>('/Groups', `displayName sw "${prefix}"`)).forEach(keep);
    for (const name of names ?? []) (await this.list<ScimGroup>('/Groups', eq('displayName', name), 2)).forEach(keep);
    return [...found.values()];
  }

  /** userName by id: of the scope's accounts only, or of every user when the listing is unscoped. */
  private async userNamesById(accounts: readonly string[] | undefined): Promise<Map<string, string>> {
    const users: ScimUser[] = [];
    if (accounts === undefined) users.push(...(await this.list<ScimUser>('/Users')));
    else {
      for (const account of accounts) {
        if (!NAME.test(account)) continue; // no such user can exist here, so it holds nothing
        const user = await this.findUser(account);
        if (user !== undefined) users.push({ ...user, userName: account });
      }
    }
    return new Map(users.map((user) => [user.id, user.userName]));
  }

  /** Every resource matching `filter`, page by page (`startIndex`/`count`, RFC 7644 §3.4.2.4). */
  private async list<T extends { id: string }>(path: string, filter?: string, count = this.pageSize): Promise<T[]> {
    const resources: T[] = [];
    for (let startIndex = 1; ;) {
      const query = new URLSearchParams({ startIndex: String(startIndex), count: String(count) });
      if (filter !== undefined) query.set('filter', filter);
      const page = (await this.request('GET', `${path}?${query.toString()}`)).body as ScimListResponse<T> | undefined;
      if (page === undefined || typeof page.totalResults !== 'number') throw new ScimProtocolError(`GET ${path} did not answer a ListResponse`);
      const items = page.Resources ?? [];
      for (const item of items) {
        if (typeof item?.id !== 'string') throw new ScimProtocolError(`GET ${path} listed a resource without an id`);
        resources.push(item);
      }
      startIndex += items.length;
      // An empty page ends the walk even if totalResults promised more (a server that shrank meanwhile).
      if (items.length === 0 || startIndex > page.totalResults) return resources;
    }
  }

  private async patch(path: string, operations: unknown[], version: string | undefined): Promise<void> {
    await this.request('PATCH', path, { body: { schemas: [PATCH_OP], Operations: operations }, ifMatch: version });
  }

  private async request(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: SCIM_JSON, authorization: `Bearer ${this.bearerToken}` };
    if (options.body !== undefined) headers['content-type'] = SCIM_JSON;
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    const response = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      if (response.ok) throw new ScimProtocolError(`${method} ${path.split('?')[0]} answered ${response.status} with a body that is not JSON`);
    }
    if (!response.ok) {
      const error = body as { detail?: unknown; scimType?: unknown } | undefined;
      const detail = typeof error?.detail === 'string' ? error.detail.slice(0, 300) : response.statusText;
      throw new ScimHttpError(
        response.status,
        `SCIM ${method} ${path.split('?')[0]} answered ${response.status}: ${detail}`,
        typeof error?.scimType === 'string' ? error.scimType : undefined,
        response.headers.get('retry-after') ?? undefined,
      );
    }
    return { status: response.status, body };
  }
}
