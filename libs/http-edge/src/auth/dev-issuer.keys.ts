import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JSONWebKeySet, JWK } from 'jose';

/**
 * The local development issuer: one ES256 key pair kept under DEV_ISSUER_DIR (`.grantline/dev-issuer/`, never
 * committed). The intake creates it and serves its public half; every service verifies dev tokens with it, and
 * `tools/dev-token` signs them with the private half.
 */
export const DEV_ISSUER = 'urn:grantline:dev-issuer';
export const DEV_ISSUER_ALG = 'ES256';
export const DEV_ISSUER_KEY_FILE = 'private.jwk.json';

/** The public half of a private JWK: everything but the secret `d`, marked for signatures. */
export function publicJwkOf(privateJwk: JWK): JWK {
  const { d: _secret, ...publicJwk } = privateJwk;
  return { ...publicJwk, use: 'sig', alg: privateJwk.alg ?? DEV_ISSUER_ALG };
}

/** The dev issuer's public key set, read from the key pair under `dir`. */
export async function readDevIssuerJwks(dir: string): Promise<JSONWebKeySet> {
  const privateJwk = JSON.parse(await readFile(join(dir, DEV_ISSUER_KEY_FILE), 'utf8')) as JWK;
  return { keys: [publicJwkOf(privateJwk)] };
}
