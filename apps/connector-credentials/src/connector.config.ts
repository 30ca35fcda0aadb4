import { z } from 'zod';
import { connectorConfigLoader } from '@grantline/connector-host';
import type { IssuerKeyFiles } from '@grantline/credential-issuer';

const filePath = z.string().min(1, { message: 'expected a file path' });

/** The issuer's variables; CONNECTOR_ID, CREDENTIAL_SEALING_KEY (required here) and the retry variables are the host's. */
export const CredentialsEnvSchema = z
  .object({
    NODE_ENV: z.string().optional(),
    /** `iss` of the tokens and of the revocation list. */
    CREDENTIAL_ISSUER: z.string().min(1).max(200).default('urn:grantline:credentials'),
    /** Private EC P-256 JWK that signs tokens (ES256). */
    CREDENTIAL_JWT_KEY_FILE: filePath.optional(),
    /** The CA's PKCS#8 private key (PEM) and certificate (PEM). */
    CREDENTIAL_CA_KEY_FILE: filePath.optional(),
    CREDENTIAL_CA_CERT_FILE: filePath.optional(),
    /**
     * Development only (`npm start`, the e2e harness): the key files live in this directory and are created when
     * absent. Refused with NODE_ENV=production, where the three files above are required.
     */
    CREDENTIAL_DEV_KEYS_DIR: filePath.optional(),
    /** The catalogue externalRefs this issuer grants (comma-separated); anything else is refused. */
    CREDENTIAL_ENTITLEMENTS: z
      .string()
      .default('deploy-api-prod,mesh-prod')
      .transform((value) =>
        value
          .split(',')
          .map((ref) => ref.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/)).min(1)),
    /** Only refs with this prefix are the issuer's; an unlisted one with it is `not_found`, without it refused. */
    CREDENTIAL_MANAGED_PREFIX: z.string().max(100).default(''),
    /** How long a served CRL is valid. */
    CREDENTIAL_CRL_VALIDITY_SECONDS: z.coerce.number().int().min(60).max(86_400).default(300),
  })
  .superRefine((env, ctx) => {
    const files = ['CREDENTIAL_JWT_KEY_FILE', 'CREDENTIAL_CA_KEY_FILE', 'CREDENTIAL_CA_CERT_FILE'] as const;
    if (env.CREDENTIAL_DEV_KEYS_DIR !== undefined) {
      if (env.NODE_ENV === 'production')
        ctx.addIssue({ code: 'custom', path: ['CREDENTIAL_DEV_KEYS_DIR'], message: 'refused with NODE_ENV=production: set the key files' });
      return;
    }
    for (const name of files)
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'Required (or CREDENTIAL_DEV_KEYS_DIR in development)' });
  });

/** Where the issuer's keys come from: configured files, or a development directory created on first start. */
export type IssuerKeySource = { kind: 'files'; files: IssuerKeyFiles } | { kind: 'dev'; dir: string };

export const loadConnectorConfig = connectorConfigLoader({
  defaultConnectorId: 'credentials',
  env: CredentialsEnvSchema,
  requiresSealingKey: true,
  target: (env) => ({
    issuer: env.CREDENTIAL_ISSUER,
    keys: keySourceOf(env),
    entitlements: env.CREDENTIAL_ENTITLEMENTS,
    managedPrefix: env.CREDENTIAL_MANAGED_PREFIX,
    crlValidityMs: env.CREDENTIAL_CRL_VALIDITY_SECONDS * 1000,
  }),
});

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;

function keySourceOf(env: z.output<typeof CredentialsEnvSchema>): IssuerKeySource {
  if (env.CREDENTIAL_DEV_KEYS_DIR !== undefined) return { kind: 'dev', dir: env.CREDENTIAL_DEV_KEYS_DIR };
  // superRefine guarantees the three files when there is no dev directory.
  return {
    kind: 'files',
    files: { jwtKeyFile: env.CREDENTIAL_JWT_KEY_FILE ?? '', caKeyFile: env.CREDENTIAL_CA_KEY_FILE ?? '', caCertFile: env.CREDENTIAL_CA_CERT_FILE ?? '' },
  };
}
