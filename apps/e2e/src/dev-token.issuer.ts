import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';

/** What the intake and approval accept in AUTH_MODE=dev (see tools/dev-token). */
export const DEV_ISSUER = 'urn:grantline:dev-issuer';
export const DEV_AUDIENCE = 'grantline';
const ALG = 'ES256';

/**
 * A dev issuer of the run's own: the key pair is written where the services look for it (DEV_ISSUER_DIR,
 * the same file layout as tools/dev-token), so tokens minted here are verified by the intake and approval.
 */
export class DevTokenIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly kid: string,
  ) {}

  static async create(dir: string): Promise<DevTokenIssuer> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    const privateJwk: JWK = { ...jwk, kid, alg: ALG, use: 'sig' };
    const file = join(dir, 'private.jwk.json');
    writeFileSync(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return new DevTokenIssuer(privateKey, kid);
  }

  /** A bearer token whose subject is the actor of everything done with it. */
  mint(subject: string, ttlSeconds = 3_600): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: this.kid })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}
