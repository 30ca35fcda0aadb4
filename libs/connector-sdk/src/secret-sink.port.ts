import { createHash } from 'node:crypto';

export interface SecretToStore {
  connectorId: string;
  credentialId: string;
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

  read(ref: string): string | undefined {
    return this.secrets.get(ref)?.secret;
  }

  get size(): number {
    return this.secrets.size;
  }
}
