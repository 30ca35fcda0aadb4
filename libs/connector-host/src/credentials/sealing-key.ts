import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** AES-256-GCM output: each part base64. `keyId` names the key that sealed it, so a changed key fails clearly. */
export interface SealedBox {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * The key issued secrets are sealed under before they reach the database (`CREDENTIAL_SEALING_KEY`, base64 of 32
 * bytes). The associated data binds a sealed box to its record: a box copied onto another credential does not open.
 * The key never prints: `toJSON` and `toString` say what it is, not what it holds.
 */
export class SealingKey {
  readonly keyId: string;

  private constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  /** Throws naming the variable, never echoing the value. */
  static fromBase64(value: string, variable = 'CREDENTIAL_SEALING_KEY'): SealingKey {
    const trimmed = value.trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) throw new Error(`${variable}: expected the base64 encoding of ${KEY_BYTES} random bytes`);
    return new SealingKey(key);
  }

  /** A fresh random key, base64 (for dev set-ups and specs). */
  static generateBase64(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  seal(plaintext: string, associatedData: string): SealedBox {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
  }

  /** Throws (without the plaintext or key in the message) when the box was sealed under another key or altered. */
  unseal(box: SealedBox, associatedData: string): string {
    if (box.keyId !== this.keyId) throw new Error(`the secret was sealed under key ${box.keyId}, not the configured ${this.keyId}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(box.iv, 'base64'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(box.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the sealed secret does not authenticate (altered, or bound to another credential)');
    }
  }

  toJSON(): string {
    return `[sealing key ${this.keyId}]`;
  }

  toString(): string {
    return this.toJSON();
  }
}
