import type { Collection, Connection } from 'mongoose';
import { ConnectorError } from '@grantline/connector-sdk';
import type { SecretSink, SecretToStore } from '@grantline/connector-sdk';
import type { SealedBox, SealingKey } from './sealing-key';

export const SEALED_SECRETS_COLLECTION = 'connector_sealed_secrets_v1';
/** One document per handed-over secret, keyed like the secret: the unique _id decides who retrieved it. */
export const SECRET_CLAIMS_COLLECTION = 'connector_sealed_secret_claims_v1';

interface SecretClaimDocument {
  _id: string;
  claimedBy: string;
  claimedAt: Date;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** `sealed` until handed over; every other state has no ciphertext left. */
export type SealedSecretState = 'sealed' | 'retrieved' | 'expired' | 'discarded';

export interface SealedSecretDocument {
  /** `<connectorId>/<credentialId>`. */
  _id: string;
  connectorId: string;
  credentialId: string;
  type: string;
  grantId: string;
  holders: string[];
  expiresAt: Date;
  storedAt: Date;
  state: SealedSecretState;
  sealed?: SealedBox;
  closedAt?: Date;
  retrievedBy?: string;
}

export type RetrievalOutcome =
  | { status: 'handed_over'; credentialId: string; type: string; secret: string; expiresAt: Date }
  /** No such credential, or the caller is not one of its holders: the same answer, so existence is not revealed. */
  | { status: 'unknown'; reason: string }
  | { status: 'gone'; reason: 'retrieved' | 'expired' | 'discarded' };

/**
 * The one-time handoff of issued secrets (architecture principle 8): a secret is sealed with AES-256-GCM before it
 * is stored, handed to one of its holders exactly once (a unique claim decides who, then the record is closed and the
 * ciphertext erased), and erased unretrieved when it expires or its grant ends. Nothing here logs or throws a secret.
 */
export class SealedSecretVault implements SecretSink {
  private readonly secrets: Collection<SealedSecretDocument>;
  private readonly claims: Collection<SecretClaimDocument>;

  constructor(
    connection: Connection,
    /** Every record of this vault is this connector's: another connector's credential ids are not reachable. */
    private readonly connectorId: string,
    private readonly key: SealingKey,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.secrets = connection.collection<SealedSecretDocument>(SEALED_SECRETS_COLLECTION);
    this.claims = connection.collection<SecretClaimDocument>(SECRET_CLAIMS_COLLECTION);
  }

  static refOf(connectorId: string, credentialId: string): string {
    return `sealed://${connectorId}/${credentialId}`;
  }

  /**
   * Seals and stores. A repeated put for a credential still sealed replaces it (a retried issuance); once handed
   * over, expired or discarded it is refused: a secret someone already holds must not be silently replaced.
   */
  async put(secret: SecretToStore): Promise<string> {
    if (secret.connectorId !== this.connectorId) {
      throw new ConnectorError('invalid_request', `the vault of ${this.connectorId} does not store secrets of ${secret.connectorId}`);
    }
    const id = idOf(secret.connectorId, secret.credentialId);
    const existing = await this.secrets.findOne({ _id: id }, { projection: { state: 1 } });
    if (existing && existing.state !== 'sealed') {
      throw new ConnectorError('conflict', `credential ${secret.credentialId} was already ${existing.state}; it is not issued again`);
    }
    const document: SealedSecretDocument = {
      _id: id,
      connectorId: secret.connectorId,
      credentialId: secret.credentialId,
      type: secret.type,
      grantId: secret.grantId,
      holders: [...secret.holders],
      expiresAt: secret.expiresAt,
      storedAt: this.now(),
      state: 'sealed',
      sealed: this.key.seal(secret.secret, id),
    };
    await this.secrets.replaceOne({ _id: id }, document, { upsert: true });
    return SealedSecretVault.refOf(secret.connectorId, secret.credentialId);
  }

  /** The grant ended: an unretrieved secret is erased. Idempotent. */
  async discard(credentialId: string): Promise<void> {
    await this.close(idOf(this.connectorId, credentialId), 'discarded', this.now());
  }

  /** The grant ended: every unretrieved secret of it (its first credential and any rotation's) is erased. Idempotent. */
  async discardGrant(grantId: string): Promise<void> {
    await this.secrets.updateMany(
      { connectorId: this.connectorId, grantId, state: 'sealed' },
      { $set: { state: 'discarded', closedAt: this.now() }, $unset: { sealed: '' } },
    );
  }

  /**
   * Hands the secret to `principalId` if it is one of the holders and nobody took it before. Who takes it is decided
   * by inserting a claim under the secret's unique id: exactly one insert succeeds, on MongoDB and on FerretDB alike
   * (FerretDB v1 runs a findAndModify as a read then a write, so two concurrent ones could both see it sealed). The
   * winner then closes the record and erases its ciphertext.
   */
  async retrieve(credentialId: string, principalId: string): Promise<RetrievalOutcome> {
    const id = idOf(this.connectorId, credentialId);
    const found = await this.secrets.findOne({ _id: id }, { projection: { sealed: 0 } });
    if (!found) return { status: 'unknown', reason: `no credential ${credentialId}` };
    if (!found.holders.includes(principalId)) return { status: 'unknown', reason: `${principalId} is not a holder of credential ${credentialId}` };
    if (found.state !== 'sealed') return { status: 'gone', reason: found.state };
    const now = this.now();
    if (found.expiresAt.getTime() <= now.getTime()) {
      await this.close(id, 'expired', now);
      return { status: 'gone', reason: 'expired' };
    }
    try {
      await this.claims.insertOne({ _id: id, claimedBy: principalId, claimedAt: now });
    } catch (error) {
      if (isDuplicateKey(error)) return { status: 'gone', reason: 'retrieved' };
      throw error;
    }
    const claimed = await this.secrets.findOne({ _id: id });
    if (!claimed?.sealed || claimed.state !== 'sealed') return { status: 'gone', reason: claimed && claimed.state !== 'sealed' ? claimed.state : 'discarded' };
    await this.secrets.updateOne({ _id: id }, { $set: { state: 'retrieved', closedAt: now, retrievedBy: principalId }, $unset: { sealed: '' } });
    return { status: 'handed_over', credentialId, type: claimed.type, secret: this.key.unseal(claimed.sealed, id), expiresAt: claimed.expiresAt };
  }

  private async close(id: string, state: 'expired' | 'discarded', at: Date): Promise<void> {
    await this.secrets.updateOne({ _id: id, state: 'sealed' }, { $set: { state, closedAt: at }, $unset: { sealed: '' } });
  }

  /** Erases every unretrieved secret past its expiry; returns how many. */
  async eraseExpired(): Promise<number> {
    const result = await this.secrets.updateMany(
      { connectorId: this.connectorId, state: 'sealed', expiresAt: { $lte: this.now() } },
      { $set: { state: 'expired', closedAt: this.now() }, $unset: { sealed: '' } },
    );
    return result.modifiedCount;
  }

  /** The stored record without its ciphertext (specs, support). */
  async describe(credentialId: string): Promise<(Omit<SealedSecretDocument, 'sealed'> & { hasCiphertext: boolean }) | undefined> {
    const found = await this.secrets.findOne({ _id: idOf(this.connectorId, credentialId) });
    if (!found) return undefined;
    const { sealed, ...rest } = found;
    return { ...rest, hasCiphertext: sealed !== undefined };
  }
}

function idOf(connectorId: string, credentialId: string): string {
  return `${connectorId}/${credentialId}`;
}
