// Authentication for the approval specs, as the service runs it: the kit's ApiAuthModule in dev mode over a dev
// issuer key of the spec's own (a temporary directory), and tokens minted with that key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { ApprovalAccessDenied } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey, GrantlineRole } from '@grantline/http-edge';
import { ApiAuthModule } from '@grantline/service-kit';

export interface TokenOptions {
  readonly roles?: readonly GrantlineRole[];
  /** A client-credentials token: no `member` role. */
  readonly workload?: boolean;
}

export interface SpecAuth {
  /** The dev issuer key directory (DEV_ISSUER_DIR for a service started from the environment). */
  readonly dir: string;
  /** ApiAuthModule as the approval service imports it, reading this spec's key. */
  readonly module: () => DynamicModule;
  readonly token: (subject: string, options?: TokenOptions) => Promise<string>;
  /** `Bearer <token>`, for an Authorization header. */
  readonly bearer: (subject: string, options?: TokenOptions) => Promise<string>;
  readonly dispose: () => void;
}

export const specAuth = async (): Promise<SpecAuth> => {
  const dir = mkdtempSync(join(tmpdir(), 'approval-spec-issuer-'));
  const key: DevIssuerKey = await ensureDevIssuerKey(dir);
  const token = (subject: string, options: TokenOptions = {}): Promise<string> =>
    mintDevToken(key, {
      subject,
      audience: DEFAULT_AUDIENCE,
      issuer: DEV_ISSUER,
      ttlSeconds: 600,
      ...(options.roles !== undefined ? { roles: options.roles } : {}),
      ...(options.workload === true ? { workload: true } : {}),
    });
  return {
    dir,
    module: () => ApiAuthModule.forRoot({ serviceName: 'approval', deniedEvent: ApprovalAccessDenied, env: { AUTH_MODE: 'dev', DEV_ISSUER_DIR: dir } }),
    token,
    bearer: async (subject, options) => `Bearer ${await token(subject, options)}`,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
};
