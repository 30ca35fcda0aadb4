import { randomUUID } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { JSONWebKeySet, JWK } from 'jose';
import { DEV_ISSUER_ALG, DEV_ISSUER_KEY_FILE, publicJwkOf } from './dev-issuer.keys';

/**
 * The local development issuer: one ES256 key pair, generated on first use under `.grantline/dev-issuer/`
 * (never committed). The intake creates it and serves its public half as a JWKS; every service verifies dev
 * tokens with it; `tools/dev-token/mint.ts` and the e2e platforms sign tokens with the private half.
 */
const PRIVATE_KEY_FILE = DEV_ISSUER_KEY_FILE;

export interface DevIssuerKey {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

function readKey(dir: string): DevIssuerKey {
  const privateJwk = JSON.parse(readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')) as JWK;
  return { privateJwk, publicJwk: publicJwkOf(privateJwk) };
}

/** Loads the dev key pair, creating it when absent. Safe when two processes start at once (atomic link). */
export async function ensureDevIssuerKey(dir: string): Promise<DevIssuerKey> {
  try {
    return readKey(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(DEV_ISSUER_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: DEV_ISSUER_ALG, use: 'sig' };
  const temporary = join(dir, `.${PRIVATE_KEY_FILE}.${randomUUID()}`);
  writeFileSync(temporary, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, join(dir, PRIVATE_KEY_FILE));
  } catch (error) {
    // Another process won the race: use its key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readKey(dir);
}

export function devJwks(key: DevIssuerKey): JSONWebKeySet {
  return { keys: [key.publicJwk] };
}

export interface MintOptions {
  readonly subject: string;
  readonly audience: string;
  readonly issuer: string;
  readonly ttlSeconds: number;
  readonly name?: string;
  readonly now?: Date;
  /** Put in the `roles` claim; the services map them as they would an IdP's (AUTH_ROLE_MAP). */
  readonly roles?: readonly string[];
  /** A client-credentials token (an HR feed, an on-call system): `gty` and `client_id` as IdPs set them. No `member` role. */
  readonly workload?: boolean;
}

/** Signs a dev token. */
export async function mintDevToken(key: DevIssuerKey, options: MintOptions): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, DEV_ISSUER_ALG);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.roles === undefined || options.roles.length === 0 ? {} : { roles: [...options.roles] }),
    ...(options.workload === true ? { gty: 'client-credentials', client_id: options.subject } : {}),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: DEV_ISSUER_ALG, typ: 'JWT', ...(key.privateJwk.kid === undefined ? {} : { kid: key.privateJwk.kid }) })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + options.ttlSeconds)
    .setJti(randomUUID())
    .sign(privateKey);
}

/** `1h`, `30m`, `45s`, `2d` or a number of seconds. */
export function parseTtl(ttl: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(ttl.trim());
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}
