import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where `npm start` keeps the local audit's checkpoint signing key: the project's gitignored local state. */
export const localAuditKeyFile = (root: string): string => join(root, '.grantline', 'audit-signing', 'ed25519.pem');

/**
 * Creates the local development key once (Ed25519, PKCS#8 PEM, readable by its owner only) and returns its path;
 * an existing key is kept, so checkpoints signed earlier still verify. The private key is never printed.
 */
export function ensureLocalAuditKey(root: string): { file: string; created: boolean } {
  const file = localAuditKeyFile(root);
  if (existsSync(file)) return { file, created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a key another start created meanwhile.
  writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  return { file, created: true };
}
