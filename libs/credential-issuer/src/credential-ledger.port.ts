/** What the issuer minted for a grant; never the secret (that went to the host's sealed sink). */
export interface MintedCredential {
  credentialId: string;
  type: 'short_lived_token' | 'x509_certificate';
  /** The JWT's `jti` or the certificate's serial number (hex). */
  serial: string;
  secretRef: string;
  fingerprint: string;
  issuedAt: Date;
  expiresAt: Date;
}

/**
 * One grant of an issuer entitlement. A plain grant (no credential asked) records the permission only; a credential
 * grant also records what was minted. Revoked entries stay: they are the revocation list and the CRL.
 */
export interface LedgerEntry {
  /** The entry's key: the grant id for a grant's first credential, the new credential id for a rotation's. */
  grantId: string;
  /** A credential a rotation issued: the grant it belongs to (absent: `grantId` is the grant). */
  forGrant?: string;
  account: string;
  entitlementRef: string;
  grantedAt: Date;
  credential?: MintedCredential;
  revokedAt?: Date;
}

/**
 * The issuer's durable state. Implementations throw only `ConnectorError` (a store that cannot be reached is
 * `unavailable`, retriable), so the connector's callers see the SDK's taxonomy.
 */
export interface CredentialLedger {
  byGrant(grantId: string): Promise<LedgerEntry | undefined>;
  /** Every entry of a grant, revoked ones included: its own and those its rotations issued (`forGrant`). */
  ofGrant(grantId: string): Promise<LedgerEntry[]>;
  /** Live (not revoked) entries of one account and entitlement. */
  liveOf(account: string, entitlementRef: string): Promise<LedgerEntry[]>;
  /** Inserts or replaces the entry of `entry.grantId`. */
  save(entry: LedgerEntry): Promise<void>;
  /** Marks the given grants revoked at `at` (already revoked ones keep their first date); returns how many changed. */
  revoke(grantIds: readonly string[], at: Date): Promise<number>;
  /** Entries not revoked; `now` drops credentials past their expiry. */
  live(now: Date, scope?: { accounts?: readonly string[]; entitlementRefs?: readonly string[] }): Promise<LedgerEntry[]>;
  /** Revoked entries whose credential of `type` has not expired yet. */
  revokedCredentials(type: MintedCredential['type'], now: Date): Promise<LedgerEntry[]>;
  ping(): Promise<void>;
}

function copyOf(entry: LedgerEntry): LedgerEntry {
  // Not structuredClone: under jest it returns Dates of another realm, which ASN.1 encoders do not recognise.
  return {
    ...entry,
    grantedAt: new Date(entry.grantedAt),
    ...(entry.revokedAt ? { revokedAt: new Date(entry.revokedAt) } : {}),
    ...(entry.credential
      ? { credential: { ...entry.credential, issuedAt: new Date(entry.credential.issuedAt), expiresAt: new Date(entry.credential.expiresAt) } }
      : {}),
  };
}

/** For unit specs and local experiments: everything is lost when the process ends. */
export class InMemoryCredentialLedger implements CredentialLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  async byGrant(grantId: string): Promise<LedgerEntry | undefined> {
    const entry = this.entries.get(grantId);
    return entry && copyOf(entry);
  }

  async ofGrant(grantId: string): Promise<LedgerEntry[]> {
    return [...this.entries.values()].filter((e) => e.grantId === grantId || e.forGrant === grantId).map((e) => copyOf(e));
  }

  async liveOf(account: string, entitlementRef: string): Promise<LedgerEntry[]> {
    return [...this.entries.values()].filter((e) => !e.revokedAt && e.account === account && e.entitlementRef === entitlementRef).map((e) => copyOf(e));
  }

  async save(entry: LedgerEntry): Promise<void> {
    this.entries.set(entry.grantId, copyOf(entry));
  }

  async revoke(grantIds: readonly string[], at: Date): Promise<number> {
    let changed = 0;
    for (const id of grantIds) {
      const entry = this.entries.get(id);
      if (entry && !entry.revokedAt) {
        entry.revokedAt = at;
        changed += 1;
      }
    }
    return changed;
  }

  async live(now: Date, scope: { accounts?: readonly string[]; entitlementRefs?: readonly string[] } = {}): Promise<LedgerEntry[]> {
    return [...this.entries.values()]
      .filter((e) => !e.revokedAt && (!e.credential || e.credential.expiresAt.getTime() > now.getTime()))
      .filter((e) => !scope.accounts || scope.accounts.includes(e.account))
      .filter((e) => !scope.entitlementRefs || scope.entitlementRefs.includes(e.entitlementRef))
      .map((e) => copyOf(e));
  }

  async revokedCredentials(type: MintedCredential['type'], now: Date): Promise<LedgerEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.revokedAt && e.credential?.type === type && e.credential.expiresAt.getTime() > now.getTime())
      .map((e) => copyOf(e));
  }

  async ping(): Promise<void> {}
}
