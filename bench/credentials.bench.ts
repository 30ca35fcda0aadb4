/**
 * `npm run bench:credentials`: grant and revoke latency of the credential issuer (apps/connector-credentials) as the
 * connector host runs it: the MongoDB ledger and the host's sealed vault on the harness's MongoDB-wire store, beside
 * a baseline measured in the same run: one `findOne` by id on the ledger, the floor of any step that touches it. A
 * JWT grant is ledger read → sign → seal + store → ledger write; an X.509 grant also generates a P-256 key pair and
 * signs a certificate; a revoke is ledger read → revoke → erase the unretrieved secret.
 *
 * BENCH_CREDENTIALS_OPS (50): grants and revokes of each type measured (after 5 warm-up rounds).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mongoose from 'mongoose';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the host's vault as the connector uses it
import { SealedSecretVault, SealingKey } from '@grantline/connector-host';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the issuer itself against its real store
import { CredentialIssuerConnector, ensureDevIssuerKeys, loadIssuerKeys } from '@grantline/credential-issuer';
import { globalSetup, globalTeardown, mongoDatabaseUrl } from '@grantline/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the app's MongoDB ledger, the one the service runs on
import { CREDENTIAL_LEDGER_COLLECTION, MongoCredentialLedger } from '../apps/connector-credentials/src/mongo-credential.ledger';

const say = (line: string): void => void process.stderr.write(`credentials | ${line}\n`);

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function runCredentialsBench(): Promise<void> {
  const ops = Number(process.env['BENCH_CREDENTIALS_OPS'] ?? 50);
  if (!Number.isInteger(ops) || ops < 1) throw new Error(`BENCH_CREDENTIALS_OPS=${process.env['BENCH_CREDENTIALS_OPS']} is not a positive whole number`);
  const run = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'credentials-bench-'));
  const connection = await mongoose.createConnection(mongoDatabaseUrl(`bench_credentials_${run}`), { serverSelectionTimeoutMS: 10_000 }).asPromise();
  try {
    const keys = await loadIssuerKeys(await ensureDevIssuerKeys(dir));
    const ledger = new MongoCredentialLedger(connection, 'credentials');
    const vault = new SealedSecretVault(connection, 'credentials', SealingKey.fromBase64(SealingKey.generateBase64()));
    const connector = new CredentialIssuerConnector({
      id: 'credentials',
      issuer: 'urn:grantline:bench',
      keys,
      ledger,
      entitlements: ['deploy-api-prod', 'mesh-prod'],
      managedPrefix: '',
    });
    const samples = { baseline: [] as number[], jwt: [] as number[], x509: [] as number[], revoke: [] as number[] };
    for (let round = -5; round < ops; round += 1) {
      for (const [type, ref] of [
        ['short_lived_token', 'deploy-api-prod'],
        ['x509_certificate', 'mesh-prod'],
      ] as const) {
        const grantId = `g-${run}-${type}-${round + 5}`;
        const b = await timed(() => connection.collection(CREDENTIAL_LEDGER_COLLECTION).findOne({ _id: `credentials/${grantId}` as never }));
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
          const outcome = await connector.deprovision({
            grantId,
            operation: 'deprovision',
            idempotencyKey: idempotencyKeyOf(grantId, 'deprovision'),
            account: 'ci-pipeline',
            entitlementRef: ref,
          });
          if (!outcome.changed) throw new Error('a revoke of a live credential changed nothing');
          await vault.discard(grantId);
        });
        if (round < 0) continue;
        samples.baseline.push(b);
        samples[type === 'short_lived_token' ? 'jwt' : 'x509'].push(grant);
        samples.revoke.push(revoke);
      }
    }
    const base = percentile(samples.baseline, 50);
    const row = (label: string, values: readonly number[]): string =>
      `${label.padEnd(40)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms   ×${(percentile(values, 50) / base).toFixed(1)} baseline`;
    say(`${ops} grants of each type and ${2 * ops} revokes (load ${loadavg()[0]?.toFixed(2)})`);
    say(row('baseline: one ledger findOne by id', samples.baseline));
    say(row('grant JWT (sign, seal, store, record)', samples.jwt));
    say(row('grant X.509 (keygen, sign, seal, record)', samples.x509));
    say(row('revoke (ledger revoke, erase secret)', samples.revoke));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'credentials',
        ops,
        baselineLookupP50Ms: Number(base.toFixed(2)),
        grantJwtP50Ms: Number(percentile(samples.jwt, 50).toFixed(2)),
        grantJwtP95Ms: Number(percentile(samples.jwt, 95).toFixed(2)),
        grantX509P50Ms: Number(percentile(samples.x509, 50).toFixed(2)),
        grantX509P95Ms: Number(percentile(samples.x509, 95).toFixed(2)),
        revokeP50Ms: Number(percentile(samples.revoke, 50).toFixed(2)),
        revokeP95Ms: Number(percentile(samples.revoke, 95).toFixed(2)),
        load1: Number((loadavg()[0] ?? 0).toFixed(2)),
      })}\n`,
    );
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runCredentialsBenchWithInfra(): Promise<void> {
  await globalSetup();
  try {
    await runCredentialsBench();
  } finally {
    await globalTeardown();
  }
}
