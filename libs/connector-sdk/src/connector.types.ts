import type { ConnectorError } from './connector-error';
import type { SecretSink } from './secret-sink.port';

export type ConnectorOperationKind = 'provision' | 'deprovision';

/** The idempotency key every side effect is recorded under (architecture principle 4). */
export type IdempotencyKey = `${string}:${ConnectorOperationKind | 'issue' | 'rotate' | 'deactivate'}`;

export function idempotencyKeyOf(grantId: string, operation: ConnectorOperationKind | 'issue' | 'rotate'): IdempotencyKey {
  return `${grantId}:${operation}`;
}

/**
 * One change to one membership in the target system. Names are the target's own: for
 * PostgreSQL the account is a login role and the entitlement a group role.
 */
export interface ConnectorOperation {
  grantId: string;
  operation: ConnectorOperationKind;
  idempotencyKey: IdempotencyKey;
  /** The identity's account in the target (e.g. a login role name). */
  account: string;
  /** The entitlement's external reference in the target (e.g. a group role name). */
  entitlementRef: string;
  /** When the grant ends; targets that can enforce expiry themselves may use it. */
  expiresAt?: Date;
  /**
   * NHI grants: instead of adding `account` to the entitlement, mint a short-lived credential
   * whose login is `account`, holding the entitlement, valid for `ttlSeconds` (capped at expiresAt).
   */
  credential?: { type: string; ttlSeconds: number; holders?: readonly string[] };
}

/**
 * After a grant's use ends (break-glass), what it used is rotated: the account's password (or key) is reset to a
 * value nobody is told, so nothing learnt while the grant was live still works. `${grantId}:rotate` keys it.
 */
export interface RotationOperation {
  grantId: string;
  /** `rotationKeyOf(grantId, rotation)`: `${grantId}:rotate` for the first, `${grantId}.r<n>:rotate` after. */
  idempotencyKey: IdempotencyKey;
  /** The account whose credential is rotated (e.g. a login role). */
  account: string;
  /** Which rotation of the grant this is (absent or 1 = the first; a grant is rotated again at each owner change). */
  rotation?: number;
  /** Present: REPLACE the grant's credential (issue this one, seal it for its holders, revoke the old one). */
  replacement?: CredentialReplacement;
}

/**
 * What a replacing rotation issues: a new credential for the same grant and entitlement that ends when the old one
 * did (never beyond the grant), retrievable once by `holders` only.
 */
export interface CredentialReplacement {
  /** Deterministic per (grant, rotation): a redelivered rotation names the same credential. */
  credentialId: string;
  type: string;
  entitlementRef: string;
  holders: readonly string[];
  expiresAt: Date;
}

/** A rotation's outcome: a replacement names what it issued and the credential ids it revoked. */
export interface RotationOutcome extends OperationOutcome {
  issued?: IssuedCredential;
  /** Credential ids the rotation revoked: their secrets, if still unretrieved, are erased from the sink. */
  retired?: readonly string[];
}

/**
 * A leaver's account is deactivated in the target (SCIM: `active: false`), not deleted: what it did stays attributable.
 * `${identityId}:deactivate` keys it, once per identity in this connector. Memberships are left to deprovision.
 */
export interface AccountDeactivationOperation {
  identityId: string;
  idempotencyKey: IdempotencyKey;
  /** The account to deactivate (a SCIM userName, a login). */
  account: string;
}

/** Whether the call changed the target; `false` means it was already in the desired state. */
export interface OperationOutcome {
  changed: boolean;
}

export interface CredentialRequest {
  /** Deterministic per grant (the runner uses the grant id): a redelivered command names the same credential. */
  credentialId: string;
  /** `${credentialId}:issue`, so one store serves operations and issuance. */
  idempotencyKey: IdempotencyKey;
  /** The catalogue's credential type (`short_lived_token`, `x509_certificate`, `database_role`, ...). */
  type: string;
  /** The grant the credential is bound to: revoking the grant revokes it. */
  grantId: string;
  /**
   * The identity ids entitled to retrieve the secret once (the beneficiary; for an NHI its owner of record and the
   * workload itself). Empty: nobody may retrieve it (fail closed).
   */
  holders: readonly string[];
  /** The login the credential authenticates as; created by the connector if missing. */
  account: string;
  /** Entitlements the credential's account is given on creation. */
  entitlementRefs: readonly string[];
  expiresAt: Date;
}

/**
 * What may leave the connector about a credential: where the secret was put, a fingerprint
 * to correlate it in audit, and when it stops working. Never the secret itself.
 */
export interface IssuedCredential {
  credentialId: string;
  account: string;
  secretRef: string;
  /** `sha256:<hex>` of the secret. */
  fingerprint: string;
  expiresAt: Date;
}

export interface Membership {
  account: string;
  entitlementRef: string;
}

/** Narrows a listing; omitted fields mean "everything the connector manages". */
export interface ActualStateScope {
  accounts?: readonly string[];
  entitlementRefs?: readonly string[];
}

export interface ActualState {
  memberships: Membership[];
}

export interface ConnectorCapabilities {
  targetKind: string;
  displayName: string;
  operations: readonly ConnectorOperationKind[];
  listActualState: boolean;
  issueCredential: boolean;
  /** The target enforces `expiresAt` by itself (otherwise the scheduler must deprovision). */
  enforcesExpiry: boolean;
  /** Implements `rotateCredential` (absent: false). */
  rotateCredential?: boolean;
  /** Its `rotateCredential` honours `replacement` (issues the new credential, revokes the old one); absent: false. */
  replaceCredential?: boolean;
  /** Implements `deactivateAccount` (absent: false); the conformance suite holds a connector to what it claims. */
  deactivateAccount?: boolean;
}

export type HealthStatus = { status: 'up'; latencyMs: number } | { status: 'down'; latencyMs: number; error: ConnectorError };

/**
 * The contract a connector team implements, one class per target system. Every method
 * must be idempotent against the target (grant twice = one grant, revoke unknown = no-op)
 * and must throw only ConnectorError (use `toConnectorError` with a provider classifier).
 */
export interface Connector {
  readonly id: string;
  describe(): ConnectorCapabilities;
  provision(op: ConnectorOperation): Promise<OperationOutcome>;
  deprovision(op: ConnectorOperation): Promise<OperationOutcome>;
  listActualState(scope?: ActualStateScope): Promise<ActualState>;
  /** Hands the secret to `sink` and returns only its reference and fingerprint. */
  issueCredential?(request: CredentialRequest, sink: SecretSink): Promise<IssuedCredential>;
  /**
   * Optional: resets the account's credential to a random value that leaves the connector nowhere (not returned,
   * not logged, not in any event). An absent account is `changed: false` (nothing left to rotate). With
   * `op.replacement` (only if `describe().replaceCredential`): issues the replacement into `sink` for its holders,
   * revokes the credential(s) it replaces and returns the new one's reference and fingerprint (`issued`).
   */
  rotateCredential?(op: RotationOperation, sink?: SecretSink): Promise<RotationOutcome>;
  /**
   * Optional: deactivates a leaver's account so it can no longer sign in. An account already inactive, or absent, is
   * `changed: false`. Declared by `describe().deactivateAccount`.
   */
  deactivateAccount?(op: AccountDeactivationOperation): Promise<OperationOutcome>;
  healthCheck(): Promise<HealthStatus>;
  /** Releases what the connector holds (pools, sockets); a host calls it once, when the service stops. */
  close?(): Promise<void>;
}
