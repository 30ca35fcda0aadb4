import { createHash } from 'node:crypto';

export interface SecretToStore {
  connectorId: string;
  credentialId: string;
  /** The credential type, handed back with the secret on retrieval. */
  type: string;
  grantId: string;
  /** Who may retrieve the secret (identity ids); empty = nobody. */
  holders: readonly string[];
  secret: string;
  expiresAt: Date;
}

/**
 * Where issued secrets go (a vault, a Kubernetes secret, the workload's own store). The
 * returned reference is what events and logs may carry (architecture principle 8).
 * `put` for the same credentialId overwrites: a retried issuance replaces the secret.
 */
export interface SecretSink {
  put(secret: SecretToStore): Promise<string>;
  /**
   * Erases a secret not yet handed over (its grant ended); a retrieved or unknown one is a no-op. Optional: a sink
   * that hands nothing over keeps nothing to erase.
   */
  discard?(credentialId: string): Promise<void>;
  /**
   * Erases every secret of a grant not yet handed over: its first credential and those rotations issued for it.
   * Optional; without it the runner discards the grant's first credential only.
   */
  discardGrant?(grantId: string): Promise<void>;
}

export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** For tests and local runs only: secrets live in process memory. */
export class InMemorySecretSink implements SecretSink {
  private readonly secrets = new Map<string, SecretToStore>();

  async put(secret: SecretToStore): Promise<string> {
    const ref = `memory://${secret.connectorId}/${secret.credentialId}`;
    this.secrets.set(ref, { ...secret });
    return ref;
  }

  async discard(credentialId: string): Promise<void> {
    for (const [ref, stored] of this.secrets) if (stored.credentialId === credentialId) this.secrets.delete(ref);
  }

  async discardGrant(grantId: string): Promise<void> {
    for (const [ref, stored] of this.secrets) if (stored.grantId === grantId) this.secrets.delete(ref);
  }

  /** What was stored under `ref`, secret included (tests only). */
  stored(ref: string): SecretToStore | undefined {
    return this.secrets.get(ref);
  }

  read(ref: string): string | undefined {
    return this.secrets.get(ref)?.secret;
  }

  get size(): number {
    return this.secrets.size;
  }
}
