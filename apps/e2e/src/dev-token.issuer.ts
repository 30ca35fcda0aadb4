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

  /**
   * A bearer token whose subject is the actor of everything done with it: a person (a `member`, plus any roles
   * given), or with `workload` a client-credentials token holding only the roles given (an HR feed, an on-call system).
   */
  mint(subject: string, options: { roles?: readonly string[]; workload?: boolean; ttlSeconds?: number; now?: Date } = {}): Promise<string> {
    return mintDevToken(this.key, {
      subject,
      audience: DEFAULT_AUDIENCE,
      issuer: DEV_ISSUER,
      ttlSeconds: options.ttlSeconds ?? 3_600,
      ...(options.roles === undefined ? {} : { roles: options.roles }),
      ...(options.workload === true ? { workload: true } : {}),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }
}
