import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey } from '@grantline/http-edge';

/**
 * A dev issuer of the run's own: the key pair is written where the run's services look for it (their
 * DEV_ISSUER_DIR), so tokens minted here are verified by every service of that platform.
 */
export class DevTokenIssuer {
  private constructor(private readonly key: DevIssuerKey) {}

  static async create(dir: string): Promise<DevTokenIssuer> {
    return new DevTokenIssuer(await ensureDevIssuerKey(dir));
  }

  /** A bearer token whose subject is the actor of everything done with it. */
  mint(subject: string, ttlSeconds = 3_600): Promise<string> {
    return mintDevToken(this.key, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds });
  }
}
