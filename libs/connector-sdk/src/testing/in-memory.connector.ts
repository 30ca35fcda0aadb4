import { randomBytes } from 'node:crypto';
import { ConnectorError } from '../connector-error';
import type {
  AccountDeactivationOperation,
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  CredentialRequest,
  HealthStatus,
  IssuedCredential,
  OperationOutcome,
} from '../connector.types';
import type { SecretSink } from '../secret-sink.port';
import { fingerprintSecret } from '../secret-sink.port';

export interface InMemoryConnectorOptions {
  id?: string;
  accounts?: readonly string[];
  /** Entitlements that exist in the fake target. */
  entitlements?: readonly string[];
  /** Only entitlements with this prefix are managed; others are refused like a real connector would. */
  managedPrefix?: string;
}

export type InMemoryCall = 'provision' | 'deprovision' | 'listActualState' | 'issueCredential' | 'deactivateAccount' | 'healthCheck';

const SEP = '\u0000';

/**
 * A target system in a Map, for SDK tests, service tests and as the reference implementation
 * of the conformance kit. It keeps a call log so tests can prove the target was not touched.
 */
export class InMemoryConnector implements Connector {
  readonly id: string;
  readonly calls: InMemoryCall[] = [];
  private readonly accounts: Set<string>;
  private readonly entitlements: Set<string>;
  private readonly managedPrefix: string;
  private readonly memberships = new Set<string>();
  private readonly validUntil = new Map<string, Date>();
  private readonly inactive = new Set<string>();
  private outage = false;
  private readonly scriptedFailures: ConnectorError[] = [];

  constructor(options: InMemoryConnectorOptions = {}) {
    this.id = options.id ?? 'in-memory';
    this.accounts = new Set(options.accounts ?? []);
    this.entitlements = new Set(options.entitlements ?? []);
    this.managedPrefix = options.managedPrefix ?? '';
  }

  addEntitlement(entitlementRef: string): void {
    this.entitlements.add(entitlementRef);
  }

  /** Every call fails with `unavailable` until switched back, like a target that is down. */
  setOutage(down: boolean): void {
    this.outage = down;
  }

  /** The next calls fail with these errors, in order, before the real behaviour resumes. */
  failNext(...errors: ConnectorError[]): void {
    this.scriptedFailures.push(...errors);
  }

  addAccount(account: string): void {
    this.accounts.add(account);
  }

  accountExpiry(account: string): Date | undefined {
    return this.validUntil.get(account);
  }

  /** Whether the account exists and was not deactivated. */
  isActive(account: string): boolean {
    return this.accounts.has(account) && !this.inactive.has(account);
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'in-memory',
      displayName: 'In-memory fake',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: true,
      enforcesExpiry: false,
      deactivateAccount: true,
    };
  }

  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.enter('provision');
    this.assertManaged(op.entitlementRef);
    if (!this.entitlements.has(op.entitlementRef)) {
      throw new ConnectorError('not_found', `entitlement ${op.entitlementRef} does not exist`);
    }
    if (!this.accounts.has(op.account)) throw new ConnectorError('not_found', `account ${op.account} does not exist`);
    const key = op.account + SEP + op.entitlementRef;
    if (this.memberships.has(key)) return { changed: false };
    this.memberships.add(key);
    return { changed: true };
  }

  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.enter('deprovision');
    this.assertManaged(op.entitlementRef);
    return { changed: this.memberships.delete(op.account + SEP + op.entitlementRef) };
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    this.enter('listActualState');
    const memberships = [...this.memberships]
      .map((key) => {
        const [account = '', entitlementRef = ''] = key.split(SEP);
        return { account, entitlementRef };
      })
      .filter((m) => !scope.accounts || scope.accounts.includes(m.account))
      .filter((m) => !scope.entitlementRefs || scope.entitlementRefs.includes(m.entitlementRef))
      .sort((a, b) => (a.account + SEP + a.entitlementRef).localeCompare(b.account + SEP + b.entitlementRef));
    return { memberships };
  }

  async issueCredential(request: CredentialRequest, sink: SecretSink): Promise<IssuedCredential> {
    this.enter('issueCredential');
    request.entitlementRefs.forEach((ref) => this.assertManaged(ref));
    const secret = randomBytes(24).toString('base64url');
    const secretRef = await sink.put({
      connectorId: this.id,
      credentialId: request.credentialId,
      type: request.type,
      grantId: request.grantId,
      holders: request.holders,
      secret,
      expiresAt: request.expiresAt,
    });
    this.accounts.add(request.account);
    this.validUntil.set(request.account, request.expiresAt);
    for (const ref of request.entitlementRefs) this.memberships.add(request.account + SEP + ref);
    return {
      credentialId: request.credentialId,
      account: request.account,
      secretRef,
      fingerprint: fingerprintSecret(secret),
      expiresAt: request.expiresAt,
    };
  }

  async deactivateAccount(op: AccountDeactivationOperation): Promise<OperationOutcome> {
    this.enter('deactivateAccount');
    if (!this.accounts.has(op.account) || this.inactive.has(op.account)) return { changed: false };
    this.inactive.add(op.account);
    return { changed: true };
  }

  async healthCheck(): Promise<HealthStatus> {
    this.calls.push('healthCheck');
    if (this.outage) return { status: 'down', latencyMs: 0, error: this.outageError() };
    return { status: 'up', latencyMs: 0 };
  }

  private enter(call: InMemoryCall): void {
    this.calls.push(call);
    const scripted = this.scriptedFailures.shift();
    if (scripted) throw scripted;
    if (this.outage) throw this.outageError();
  }

  private outageError(): ConnectorError {
    return new ConnectorError('unavailable', `${this.id} is unavailable`);
  }

  private assertManaged(entitlementRef: string): void {
    if (!entitlementRef.startsWith(this.managedPrefix)) {
      throw new ConnectorError('invalid_request', `entitlement ${entitlementRef} is not managed by ${this.id}`);
    }
  }
}
