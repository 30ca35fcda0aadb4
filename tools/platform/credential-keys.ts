import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm start` keeps the connectors' local credential material: the project's gitignored local state. */
export const localCredentialsDir = (root: string): string => join(root, '.grantline', 'credentials');

/**
 * The connectors' credential configuration for a local run: a sealing key created once (32 random bytes, base64,
 * readable by its owner only; kept, so secrets sealed before a restart still open) and the directory where
 * connector-credentials creates its development JWT key and CA on first start. Variables already set win; nothing
 * secret is printed.
 */
export function localCredentialEnv(root: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const dir = localCredentialsDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'sealing.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  const fromFiles = env['CREDENTIAL_JWT_KEY_FILE'] !== undefined;
  return {
    CREDENTIAL_SEALING_KEY: env['CREDENTIAL_SEALING_KEY'] ?? readFileSync(keyFile, 'utf8').trim(),
    ...(fromFiles || env['CREDENTIAL_DEV_KEYS_DIR'] !== undefined ? {} : { CREDENTIAL_DEV_KEYS_DIR: join(dir, 'issuer') }),
  };
}
