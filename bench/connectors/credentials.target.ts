import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the host's vault as the connector uses it
import { SealedSecretVault, SealingKey } from '@grantline/connector-host';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the issuer itself against its real store
import { CredentialIssuerConnector, ensureDevIssuerKeys, loadIssuerKeys } from '@grantline/credential-issuer';
import { mongoDatabaseUrl } from '@grantline/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the app's MongoDB ledger, the one the service runs on
import { CREDENTIAL_LEDGER_COLLECTION, MongoCredentialLedger } from '../../apps/connector-credentials/src/mongo-credential.ledger';
import { expectChanged, timed } from './connector-latency';
import type { LatencyTarget } from './connector-latency';

const TYPES = { jwt: ['short_lived_token', 'deploy-api-prod'], x509: ['x509_certificate', 'mesh-prod'] } as const;

/**
 * The credential issuer (apps/connector-credentials) as the connector host runs it: the MongoDB ledger and the host's
 * sealed vault on the harness's MongoDB-wire store. Baseline: one `findOne` by id on the ledger. A JWT grant is ledger
 * read → sign → seal + store → ledger write; an X.509 grant also generates a P-256 key pair and signs a certificate;
 * a revoke is ledger read → revoke → erase the unretrieved secret.
 */
export async function credentialsTarget(): Promise<LatencyTarget> {
  // @peculiar/x509 (the issuer's CA) needs the Reflect metadata polyfill before it loads; a Nest host has it
  await import('reflect-metadata');
  const run = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'credentials-bench-'));
  const connection = await mongoose.createConnection(mongoDatabaseUrl(`bench_credentials_${run}`), { serverSelectionTimeoutMS: 10_000 }).asPromise();
  const keys = await loadIssuerKeys(await ensureDevIssuerKeys(dir));
  const vault = new SealedSecretVault(connection, 'credentials', SealingKey.fromBase64(SealingKey.generateBase64()));
  const connector = new CredentialIssuerConnector({
    id: 'credentials',
    issuer: 'urn:grantline:bench',
    keys,
    ledger: new MongoCredentialLedger(connection, 'credentials'),
    entitlements: [TYPES.jwt[1], TYPES.x509[1]],
    managedPrefix: '',
  });
  const grantAndRevoke = async (kind: keyof typeof TYPES, index: number): Promise<{ grant: number; revoke: number }> => {
    const [type, ref] = TYPES[kind];
    const grantId = `g-${run}-${kind}-${index + 5}`;
    const grant = await timed(() =>
      connector.issueCredential(
        {
          credentialId: grantId,
          idempotencyKey: `${grantId}:issue`,
          type,
          grantId,
          holders: ['owner'],
          account: 'ci-pipeline',
          entitlementRefs: [ref],
          expiresAt: new Date(Date.now() + 3_600_000),
        },
        vault,
      ),
    );
    const revoke = await timed(async () => {
      const deprovision = {
        grantId,
        operation: 'deprovision' as const,
        idempotencyKey: idempotencyKeyOf(grantId, 'deprovision'),
        account: 'ci-pipeline',
        entitlementRef: ref,
      };
      expectChanged(await connector.deprovision(deprovision), true, 'a revoke of a live credential');
      await vault.discard(grantId);
    });
    return { grant, revoke };
  };
  return {
    name: 'credentials',
    baseline: 'one ledger findOne by id',
    steps: {
      grantJwt: 'grant JWT (sign, seal, store, record)',
      grantX509: 'grant X.509 (keygen, sign, seal, record)',
      revokeJwt: 'revoke JWT (ledger revoke, erase secret)',
      revokeX509: 'revoke X.509 (ledger revoke, erase secret)',
    },
    async round(index) {
      const baseline = await timed(() =>
        connection.collection(CREDENTIAL_LEDGER_COLLECTION).findOne({ _id: `credentials/g-${run}-jwt-${index + 5}` as never }),
      );
      const jwt = await grantAndRevoke('jwt', index);
      const x509 = await grantAndRevoke('x509', index);
      return { baseline, grantJwt: jwt.grant, grantX509: x509.grant, revokeJwt: jwt.revoke, revokeX509: x509.revoke };
    },
    async close() {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
