import { ConnectorError, fingerprintSecret, isConnectorError, systemClock } from '@grantline/connector-sdk';
import type {
  ActualState,
  ActualStateScope,
  Clock,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  CredentialRequest,
  HealthStatus,
  IssuedCredential,
  OperationOutcome,
  RotationOperation,
  RotationOutcome,
  SecretSink,
} from '@grantline/connector-sdk';
import type { CredentialLedger, LedgerEntry, MintedCredential } from './credential-ledger.port';
import { epochSeconds, mintCertificate, mintToken, signCrl, signRevocationList } from './credential-minting';
import type { IssuerKeys } from './issuer-keys';

export interface CredentialIssuerOptions {
  id: string;
  /** `iss` of every token and of the revocation list. */
  issuer: string;
  keys: IssuerKeys;
  ledger: CredentialLedger;
  /** The entitlements (catalogue externalRefs) this issuer may grant; everything else is refused. */
  entitlements: readonly string[];
  /** Names inside the issuer's namespace (e.g. `deploy:`): a ref with it that is not listed is `not_found`. */
  managedPrefix: string;
  clock?: Clock;
  /** How long a CRL is valid after it was produced. */
  crlValidityMs?: number;
}

const ISSUED_TYPES: ReadonlySet<string> = new Set<MintedCredential['type']>(['short_lived_token', 'x509_certificate']);

/**
 * Grantline's own credential issuer as a connector (ADR 0026): a grant of one of its entitlements is the right to a
 * credential bound to that grant — a JWT signed by the issuer key or an X.509 client certificate from the issuer's
 * CA — whose lifetime is the grant's and whose secret goes only to the host's sealed sink. Revoking the grant
 * revokes the credential (revocation list / CRL) and erases an unretrieved secret.
 */
export class CredentialIssuerConnector implements Connector {
  readonly id: string;
  private readonly clock: Clock;
  private readonly entitlements: ReadonlySet<string>;

  constructor(private readonly options: CredentialIssuerOptions) {
    this.id = options.id;
    this.clock = options.clock ?? systemClock;
    this.entitlements = new Set(options.entitlements);
  }

  describe(): ConnectorCapabilities {
    return {
      targetKind: 'credential-issuer',
      displayName: 'Grantline credential issuer (JWT, X.509)',
      operations: ['provision', 'deprovision'],
      listActualState: true,
      issueCredential: true,
      // A token's exp and a certificate's notAfter are the grant's expiry: the credential dies with it by itself.
      enforcesExpiry: true,
      rotateCredential: true,
      replaceCredential: true,
    };
  }

  /** A grant without a credential ask: the permission is recorded; nothing is minted. */
  async provision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.assertManaged(op.entitlementRef);
    return this.guard(async () => {
      const live = await this.options.ledger.liveOf(op.account, op.entitlementRef);
      if (live.length > 0) return { changed: false };
      await this.options.ledger.save({ grantId: op.grantId, account: op.account, entitlementRef: op.entitlementRef, grantedAt: this.clock.now() });
      return { changed: true };
    });
  }

  /**
   * Revokes the grant's entries (and so its credentials, the first and any rotation's: onto the revocation list or
   * the CRL); a grant the ledger does not know revokes what the account holds of the entitlement. Unknown or already
   * revoked: `changed: false`.
   */
  async deprovision(op: ConnectorOperation): Promise<OperationOutcome> {
    this.assertManaged(op.entitlementRef);
    return this.guard(async () => {
      const own = await this.options.ledger.ofGrant(op.grantId);
      const targets = own.length > 0 ? own : await this.options.ledger.liveOf(op.account, op.entitlementRef);
      const changed = await this.options.ledger.revoke(
        targets.map((entry) => entry.grantId),
        this.clock.now(),
      );
      return { changed: changed > 0 };
    });
  }

  async listActualState(scope: ActualStateScope = {}): Promise<ActualState> {
    return this.guard(async () => {
      const live = await this.options.ledger.live(this.clock.now(), scope);
      const memberships = live.map((entry) => ({ account: entry.account, entitlementRef: entry.entitlementRef }));
      const unique = [...new Map(memberships.map((m) => [`${m.account}\u0000${m.entitlementRef}`, m])).values()];
      return { memberships: unique.sort((a, b) => `${a.account} ${a.entitlementRef}`.localeCompare(`${b.account} ${b.entitlementRef}`)) };
    });
  }

  /**
   * Mints the grant's credential once: a redelivered command finds it in the ledger and gets the same reference and
   * fingerprint back, nothing new is minted. The secret goes to the sink before the ledger records the credential.
   */
  async issueCredential(request: CredentialRequest, sink: SecretSink): Promise<IssuedCredential> {
    const [entitlementRef, ...others] = request.entitlementRefs;
    if (entitlementRef === undefined || others.length > 0) {
      throw new ConnectorError('invalid_request', 'a credential is bound to exactly one entitlement');
    }
    this.assertManaged(entitlementRef);
    if (!ISSUED_TYPES.has(request.type)) {
      throw new ConnectorError('invalid_request', `credential type ${request.type} is not issued by ${this.id} (short_lived_token, x509_certificate)`);
    }
    const type = request.type as MintedCredential['type'];
    const issuedAt = this.clock.now();
    if (!(request.expiresAt.getTime() > issuedAt.getTime() + 1000)) {
      throw new ConnectorError('invalid_request', 'expiresAt must be at least a second in the future');
    }
    return this.guard(async () => {
      const existing = await this.options.ledger.byGrant(request.credentialId);
      if (existing?.revokedAt) throw new ConnectorError('conflict', `credential ${request.credentialId} was revoked; it is not issued again`);
      if (existing?.credential) return this.view(existing, existing.credential);

      const minted = await this.mint(type, request.account, entitlementRef, request.credentialId, issuedAt, request.expiresAt);
      const secretRef = await sink.put({
        connectorId: this.id,
        credentialId: request.credentialId,
        type,
        grantId: request.grantId,
        holders: request.holders,
        secret: minted.secret,
        expiresAt: minted.expiresAt,
      });
      const credential: MintedCredential = {
        credentialId: request.credentialId,
        type,
        serial: minted.serial,
        secretRef,
        fingerprint: fingerprintSecret(minted.secret),
        issuedAt,
        expiresAt: minted.expiresAt,
      };
      const entry: LedgerEntry = { grantId: request.credentialId, account: request.account, entitlementRef, grantedAt: issuedAt, credential };
      await this.options.ledger.save(entry);
      return this.view(entry, credential);
    });
  }

  /**
   * Without a replacement, rotation is revocation: the grant's live credentials go onto the revocation list / CRL and
   * nothing new is issued. With one (an NHI's owner changed), the grant's credential is REPLACED: a new one with the
   * replacement's id, for the same account and entitlement, ending when the replaced one did (never later than asked,
   * so never beyond the grant), sealed for the replacement's holders; then every other live credential of the grant
   * is revoked. New first, old revoked second, so a retry after a crash between the two finds the new one in the
   * ledger, mints nothing and finishes the revocation.
   */
  async rotateCredential(op: RotationOperation, sink?: SecretSink): Promise<RotationOutcome> {
    const { replacement } = op;
    if (replacement) this.assertReplaceable(replacement.entitlementRef, replacement.type, sink);
    return this.guard(async () => {
      const entries = await this.options.ledger.ofGrant(op.grantId);
      const now = this.clock.now();
      if (!replacement || !sink) {
        const live = entries.filter((entry) => entry.credential && !entry.revokedAt && entry.account === op.account).map((entry) => entry.grantId);
        return { changed: (await this.options.ledger.revoke(live, now)) > 0, retired: live };
      }
      let issued = entries.find((entry) => entry.grantId === replacement.credentialId);
      if (issued?.revokedAt) throw new ConnectorError('conflict', `credential ${replacement.credentialId} was revoked; it is not issued again`);
      const changed = !issued?.credential;
      if (!issued?.credential) issued = await this.issueReplacement(op, replacement, entries, sink, now);
      const retired = entries
        .filter((entry) => entry.grantId !== replacement.credentialId && entry.credential && !entry.revokedAt)
        .map((entry) => entry.grantId);
      await this.options.ledger.revoke(retired, now);
      return { changed, issued: this.view(issued, issued.credential!), retired };
    });
  }

  private async issueReplacement(
    op: RotationOperation,
    replacement: NonNullable<RotationOperation['replacement']>,
    entries: readonly LedgerEntry[],
    sink: SecretSink,
    issuedAt: Date,
  ): Promise<LedgerEntry> {
    const replaced = entries.filter(
      (entry) => entry.credential && !entry.revokedAt && entry.account === op.account && entry.entitlementRef === replacement.entitlementRef,
    );
    const replacedEnd = Math.max(...replaced.map((entry) => entry.credential!.expiresAt.getTime()));
    if (replaced.length === 0 || replacedEnd <= issuedAt.getTime()) {
      throw new ConnectorError('not_found', `grant ${op.grantId} has no live credential of ${op.account} to replace`);
    }
    const expiresAt = new Date(Math.min(replacedEnd, replacement.expiresAt.getTime()));
    if (!(expiresAt.getTime() > issuedAt.getTime() + 1000)) throw new ConnectorError('invalid_request', 'expiresAt must be at least a second in the future');
    const type = replacement.type as MintedCredential['type'];
    const minted = await this.mint(type, op.account, replacement.entitlementRef, replacement.credentialId, issuedAt, expiresAt);
    const secretRef = await sink.put({
      connectorId: this.id,
      credentialId: replacement.credentialId,
      type,
      grantId: op.grantId,
      holders: replacement.holders,
      secret: minted.secret,
      expiresAt: minted.expiresAt,
    });
    const entry: LedgerEntry = {
      grantId: replacement.credentialId,
      forGrant: op.grantId,
      account: op.account,
      entitlementRef: replacement.entitlementRef,
      grantedAt: issuedAt,
      credential: {
        credentialId: replacement.credentialId,
        type,
        serial: minted.serial,
        secretRef,
        fingerprint: fingerprintSecret(minted.secret),
        issuedAt,
        expiresAt: minted.expiresAt,
      },
    };
    await this.options.ledger.save(entry);
    return entry;
  }

  private assertReplaceable(entitlementRef: string, type: string, sink: SecretSink | undefined): void {
    this.assertManaged(entitlementRef);
    if (!ISSUED_TYPES.has(type))
      throw new ConnectorError('invalid_request', `credential type ${type} is not issued by ${this.id} (short_lived_token, x509_certificate)`);
    if (!sink) throw new ConnectorError('invalid_request', 'a replacement needs a SecretSink');
  }

  async healthCheck(): Promise<HealthStatus> {
    const started = Date.now();
    try {
      await this.guard(() => this.options.ledger.ping());
      return { status: 'up', latencyMs: Date.now() - started };
    } catch (error) {
      return { status: 'down', latencyMs: Date.now() - started, error: error as ConnectorError };
    }
  }

  /** The public verification keys (JWKS). */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [{ ...this.options.keys.jwt.publicJwk }] };
  }

  /** The signed revocation list of tokens revoked before their expiry. */
  async revocationList(): Promise<string> {
    const now = this.clock.now();
    const revoked = await this.guard(() => this.options.ledger.revokedCredentials('short_lived_token', now));
    const entries = revoked.flatMap((entry) => (entry.credential ? [{ jti: entry.credential.serial, exp: epochSeconds(entry.credential.expiresAt) }] : []));
    return signRevocationList(this.options.keys, this.options.issuer, entries, now);
  }

  caCertificatePem(): string {
    return this.options.keys.ca.certificate.toString('pem');
  }

  /** The CA's CRL (PEM) of certificates revoked before their expiry. */
  async crl(): Promise<string> {
    const now = this.clock.now();
    const revoked = await this.guard(() => this.options.ledger.revokedCredentials('x509_certificate', now));
    const serials = revoked.flatMap((entry) => (entry.credential && entry.revokedAt ? [{ serial: entry.credential.serial, revokedAt: entry.revokedAt }] : []));
    return signCrl(this.options.keys, serials, now, this.options.crlValidityMs ?? 5 * 60_000);
  }

  private async mint(
    type: MintedCredential['type'],
    account: string,
    entitlementRef: string,
    credentialId: string,
    issuedAt: Date,
    expiresAt: Date,
  ): Promise<{ serial: string; secret: string; expiresAt: Date }> {
    // Whole seconds in both formats: the credential ends at the grant's expiry, never after it.
    const end = new Date(epochSeconds(expiresAt) * 1000);
    if (type === 'short_lived_token') {
      const secret = await mintToken(this.options.keys, { issuer: this.options.issuer, account, entitlementRef, jti: credentialId, issuedAt, expiresAt: end });
      return { serial: credentialId, secret, expiresAt: end };
    }
    const certificate = await mintCertificate(this.options.keys, account, issuedAt, end);
    return { serial: certificate.serial, secret: certificate.secret, expiresAt: end };
  }

  private view(entry: LedgerEntry, credential: MintedCredential): IssuedCredential {
    return {
      credentialId: credential.credentialId,
      account: entry.account,
      secretRef: credential.secretRef,
      fingerprint: credential.fingerprint,
      expiresAt: credential.expiresAt,
    };
  }

  private assertManaged(entitlementRef: string): void {
    if (!entitlementRef.startsWith(this.options.managedPrefix)) {
      throw new ConnectorError('invalid_request', `entitlement ${entitlementRef} is not managed by ${this.id}`);
    }
    if (!this.entitlements.has(entitlementRef)) throw new ConnectorError('not_found', `${this.id} issues no entitlement ${entitlementRef}`);
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isConnectorError(error)) throw error;
      // Never the original message: a library error could quote what it was given.
      throw new ConnectorError('unknown', `${this.id}: ${error instanceof Error ? error.name : 'error'} while issuing or revoking`);
    }
  }
}
