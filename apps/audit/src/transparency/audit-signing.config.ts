import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ServiceConfigError } from '@grantline/service-kit';
import { createNoteSigner, verifierKey } from '@grantline/transparency';
import type { NoteSigner } from '@grantline/transparency';

/** The default note key name: what a verifier key's first field says. */
export const DEFAULT_AUDIT_KEY_NAME = 'grantline-audit';
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;

const AuditSigningEnvSchema = z.object({
  AUDIT_SIGNING_KEY_FILE: z
    .string({ error: "required: path of the audit's Ed25519 private key (PKCS#8 PEM) that signs the log's checkpoints" })
    .trim()
    .min(1, "required: path of the audit's Ed25519 private key (PKCS#8 PEM) that signs the log's checkpoints"),
  AUDIT_SIGNING_KEY_NAME: z
    .string()
    .regex(/^[^\s+]{1,100}$/, 'a note key name: 1 to 100 characters, no spaces, no "+"')
    .default(DEFAULT_AUDIT_KEY_NAME),
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(DEFAULT_CHECKPOINT_INTERVAL_MS),
});

/** How the audit signs checkpoints of the log, and how often (ADR 0016). */
export interface AuditSigning {
  readonly keyName: string;
  readonly signer: NoteSigner;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  readonly publicKeyPem: string;
  /** The C2SP verifier key `<name>+<hex key id>+<base64(0x01 || key)>`. */
  readonly vkey: string;
  readonly checkpointIntervalMs: number;
}

export const AUDIT_SIGNING = Symbol('AUDIT_SIGNING');

/**
 * Reads and checks the signing key; throws ServiceConfigError naming the setting when it is missing, unreadable or
 * not an Ed25519 private key, so the audit never starts without a key that can sign (fail closed). The key's bytes
 * never reach a log or an error message.
 */
export function loadAuditSigning(env: NodeJS.ProcessEnv = process.env): AuditSigning {
  const parsed = AuditSigningEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ServiceConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.join('.') || '(environment)', message: issue.message })));
  }
  const { AUDIT_SIGNING_KEY_FILE: file, AUDIT_SIGNING_KEY_NAME: keyName, AUDIT_CHECKPOINT_INTERVAL_MS: checkpointIntervalMs } = parsed.data;
  const refuse = (message: string): ServiceConfigError => new ServiceConfigError([{ variable: 'AUDIT_SIGNING_KEY_FILE', message: `${file}: ${message}` }]);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw refuse('is not a PEM private key (expected PKCS#8 "BEGIN PRIVATE KEY")');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw refuse(`is a ${String(privateKey.asymmetricKeyType)} key; checkpoints are signed with Ed25519 only`);
  const publicKey = createPublicKey(privateKey);
  return {
    keyName,
    signer: createNoteSigner(keyName, privateKey),
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    vkey: verifierKey(keyName, publicKey),
    checkpointIntervalMs,
  };
}
