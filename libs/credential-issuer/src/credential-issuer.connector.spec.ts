import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, X509Crl } from '@peculiar/x509';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import {
  ConnectorError,
  ConnectorRunner,
  InMemoryIdempotencyStore,
  InMemorySecretSink,
  describeConnectorConformance,
  fingerprintSecret,
} from '@grantline/connector-sdk';
import type { CredentialRequest } from '@grantline/connector-sdk';
import { CredentialIssuerConnector } from './credential-issuer.connector';
import { InMemoryCredentialLedger } from './credential-ledger.port';
import type { CredentialLedger } from './credential-ledger.port';
import { ensureDevIssuerKeys, loadIssuerKeys } from './issuer-keys';
import type { IssuerKeys } from './issuer-keys';

const ISSUER = 'urn:grantline:credentials:spec';
let dir: string;
let keys: IssuerKeys;
let now = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => now };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credential-issuer-'));
  keys = await loadIssuerKeys(await ensureDevIssuerKeys(dir));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function issuer(ledger: CredentialLedger = new InMemoryCredentialLedger()): CredentialIssuerConnector {
  return new CredentialIssuerConnector({
    id: 'credentials',
    issuer: ISSUER,
    keys,
    ledger,
    entitlements: ['deploy:prod', 'deploy:staging', 'mtls:prod'],
    managedPrefix: '',
    clock,
  });
}

const unreachable: CredentialLedger = new Proxy({} as CredentialLedger, {
  get: () => async () => {
    throw new ConnectorError('unavailable', 'the ledger is unreachable');
  },
});

describeConnectorConformance('credential issuer (in-memory ledger)', async () => ({
  connector: new CredentialIssuerConnector({
    id: 'credentials',
    issuer: ISSUER,
    keys,
    ledger: new InMemoryCredentialLedger(),
    entitlements: ['deploy:prod', 'deploy:staging'],
    managedPrefix: 'deploy:',
  }),
  accounts: ['ci-pipeline', 'batch-job'],
  entitlements: ['deploy:prod', 'deploy:staging'],
  missingEntitlement: 'deploy:missing',
  unmanagedEntitlement: 'other:prod',
  newCredentialAccount: 'fresh-workload',
  unreachableConnector: () =>
    new CredentialIssuerConnector({ id: 'credentials', issuer: ISSUER, keys, ledger: unreachable, entitlements: ['deploy:prod'], managedPrefix: 'deploy:' }),
  dispose: async () => undefined,
}));

function request(type: string, grantId: string, ref = 'deploy:prod', expiresAt = new Date(now.getTime() + 3_600_000)): CredentialRequest {
  return {
    credentialId: grantId,
    idempotencyKey: `${grantId}:issue`,
    type,
    grantId,
    holders: ['owner-1'],
    account: 'ci-pipeline',
    entitlementRefs: [ref],
    expiresAt,
  };
}

describe('CredentialIssuerConnector', () => {
  it('mints a JWT bound to the grant: verifies against the JWKS, exp = grant expiry, jti = credential id, aud/scope = entitlement', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const expiresAt = new Date('2030-01-01T01:30:00.000Z');
    const issued = await connector.issueCredential(request('short_lived_token', 'grant-jwt', 'deploy:prod', expiresAt), sink);
    const token = sink.read(issued.secretRef)!;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(connector.jwks() as never), {
      issuer: ISSUER,
      audience: 'deploy:prod',
      currentDate: now,
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: 'ci-pipeline',
      aud: 'deploy:prod',
      scope: 'deploy:prod',
      jti: 'grant-jwt',
      exp: expiresAt.getTime() / 1000,
      iat: now.getTime() / 1000,
    });
    expect(issued).toEqual({
      credentialId: 'grant-jwt',
      account: 'ci-pipeline',
      secretRef: issued.secretRef,
      fingerprint: fingerprintSecret(token),
      expiresAt,
    });
    expect(sink.stored(issued.secretRef)).toMatchObject({ type: 'short_lived_token', grantId: 'grant-jwt', holders: ['owner-1'] });
  });

  it('re-issues nothing for a redelivered command: same reference and fingerprint, no second put', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const first = await connector.issueCredential(request('short_lived_token', 'grant-again'), sink);
    const again = await connector.issueCredential(request('short_lived_token', 'grant-again'), new InMemorySecretSink());
    expect(again).toEqual(first);
    expect(sink.size).toBe(1);
  });

  it('revokes on deprovision: the jti goes onto the signed revocation list until the token expires', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const expiresAt = new Date(now.getTime() + 600_000);
    await connector.issueCredential(request('short_lived_token', 'grant-rev', 'deploy:prod', expiresAt), sink);
    const before = decodeJwt(await connector.revocationList());
    expect(before['revoked']).toEqual([]);

    const deprovision = {
      grantId: 'grant-rev',
      operation: 'deprovision' as const,
      idempotencyKey: 'grant-rev:deprovision' as const,
      account: 'ci-pipeline',
      entitlementRef: 'deploy:prod',
    };
    await expect(connector.deprovision(deprovision)).resolves.toEqual({ changed: true });
    await expect(connector.deprovision(deprovision)).resolves.toEqual({ changed: false });
    const list = await jwtVerify(await connector.revocationList(), createLocalJWKSet(connector.jwks() as never), { issuer: ISSUER, currentDate: now });
    expect(list.protectedHeader.typ).toBe('revocation-list+jwt');
    expect(list.payload['revoked']).toEqual([{ jti: 'grant-rev', exp: expiresAt.getTime() / 1000 }]);
    await expect(connector.listActualState({ accounts: ['ci-pipeline'] })).resolves.toEqual({ memberships: [] });
    await expect(connector.issueCredential(request('short_lived_token', 'grant-rev'), sink)).rejects.toMatchObject({ code: 'conflict' });

    now = new Date(expiresAt.getTime() + 1000);
    try {
      expect(decodeJwt(await connector.revocationList())['revoked']).toEqual([]);
    } finally {
      now = new Date('2030-01-01T00:00:00.000Z');
    }
  });

  it('mints an X.509 client certificate from the CA, valid exactly until the grant expiry, and lists it on the CRL once revoked', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const expiresAt = new Date('2030-01-01T02:00:00.000Z');
    const issued = await connector.issueCredential(request('x509_certificate', 'grant-x509', 'mtls:prod', expiresAt), sink);
    const secret = sink.read(issued.secretRef)!;
    expect(secret).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const [leafPem] = secret.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.subject).toBe('CN=ci-pipeline');
    expect(leaf.notAfter.getTime()).toBe(expiresAt.getTime());
    expect(leaf.getExtension('2.5.29.17')?.toString()).toContain('spiffe://grantline/ci-pipeline');
    await expect(leaf.verify({ publicKey: keys.ca.certificate.publicKey, signatureOnly: true })).resolves.toBe(true);

    await expect(connector.rotateCredential({ grantId: 'grant-x509', idempotencyKey: 'grant-x509:rotate', account: 'ci-pipeline' })).resolves.toEqual({
      changed: true,
      retired: ['grant-x509'],
    });
    const crl = new X509Crl(await connector.crl());
    await expect(crl.verify({ publicKey: keys.ca.certificate.publicKey })).resolves.toBe(true);
    expect(crl.entries.map((entry) => entry.serialNumber.toLowerCase())).toEqual([leaf.serialNumber.toLowerCase()]);
  });

  it('replaces a JWT on rotation: a new token for the same grant and exp, sealed for the new holders, and the old jti on the revocation list', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const expiresAt = new Date('2030-01-01T01:30:00.000Z');
    const old = await connector.issueCredential(request('short_lived_token', 'grant-nhi', 'deploy:prod', expiresAt), sink);
    const rotation = {
      grantId: 'grant-nhi',
      idempotencyKey: 'grant-nhi.r1:rotate' as const,
      account: 'ci-pipeline',
      rotation: 1,
      // Asked beyond the replaced credential's end: the replacement still ends when the old one did.
      replacement: {
        credentialId: 'grant-nhi.r1',
        type: 'short_lived_token',
        entitlementRef: 'deploy:prod',
        holders: ['owner-2', 'ci-pipeline'],
        expiresAt: new Date('2030-01-02T00:00:00.000Z'),
      },
    };

    const rotated = await connector.rotateCredential(rotation, sink);

    expect(rotated).toMatchObject({ changed: true, retired: ['grant-nhi'], issued: { credentialId: 'grant-nhi.r1', account: 'ci-pipeline', expiresAt } });
    const token = sink.read(rotated.issued!.secretRef)!;
    expect(rotated.issued!.fingerprint).toBe(fingerprintSecret(token));
    expect(rotated.issued!.fingerprint).not.toBe(old.fingerprint);
    const { payload } = await jwtVerify(token, createLocalJWKSet(connector.jwks() as never), { issuer: ISSUER, audience: 'deploy:prod', currentDate: now });
    expect(payload).toMatchObject({ sub: 'ci-pipeline', jti: 'grant-nhi.r1', exp: expiresAt.getTime() / 1000 });
    expect(sink.stored(rotated.issued!.secretRef)).toMatchObject({ grantId: 'grant-nhi', credentialId: 'grant-nhi.r1', holders: ['owner-2', 'ci-pipeline'] });
    expect(decodeJwt(await connector.revocationList())['revoked']).toEqual([{ jti: 'grant-nhi', exp: expiresAt.getTime() / 1000 }]);
    await expect(connector.listActualState({ accounts: ['ci-pipeline'] })).resolves.toEqual({
      memberships: [{ account: 'ci-pipeline', entitlementRef: 'deploy:prod' }],
    });

    // Redelivered: nothing minted, the same credential named.
    const again = await connector.rotateCredential(rotation, new InMemorySecretSink());
    expect(again).toEqual({ changed: false, retired: [], issued: rotated.issued });

    // The grant ends: the replacement is revoked too.
    const deprovision = {
      grantId: 'grant-nhi',
      operation: 'deprovision' as const,
      idempotencyKey: 'grant-nhi:deprovision' as const,
      account: 'ci-pipeline',
      entitlementRef: 'deploy:prod',
    };
    await expect(connector.deprovision(deprovision)).resolves.toEqual({ changed: true });
    expect(decodeJwt(await connector.revocationList())['revoked']).toEqual(
      expect.arrayContaining([
        { jti: 'grant-nhi', exp: expiresAt.getTime() / 1000 },
        { jti: 'grant-nhi.r1', exp: expiresAt.getTime() / 1000 },
      ]),
    );
  });

  it('replaces an X.509 certificate on rotation: a new serial until the same notAfter, the old serial on the CRL', async () => {
    const connector = issuer();
    const sink = new InMemorySecretSink();
    const expiresAt = new Date('2030-01-01T02:00:00.000Z');
    const old = await connector.issueCredential(request('x509_certificate', 'grant-cert', 'mtls:prod', expiresAt), sink);
    const leafOf = (secret: string) => new X509Certificate((secret.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [])[0]!);
    const oldLeaf = leafOf(sink.read(old.secretRef)!);

    const rotated = await connector.rotateCredential(
      {
        grantId: 'grant-cert',
        idempotencyKey: 'grant-cert.r1:rotate',
        account: 'ci-pipeline',
        rotation: 1,
        replacement: { credentialId: 'grant-cert.r1', type: 'x509_certificate', entitlementRef: 'mtls:prod', holders: ['owner-2'], expiresAt },
      },
      sink,
    );

    const newLeaf = leafOf(sink.read(rotated.issued!.secretRef)!);
    expect(newLeaf.serialNumber).not.toBe(oldLeaf.serialNumber);
    expect(newLeaf.notAfter.getTime()).toBe(expiresAt.getTime());
    const crl = new X509Crl(await connector.crl());
    expect(crl.entries.map((entry) => entry.serialNumber.toLowerCase())).toEqual([oldLeaf.serialNumber.toLowerCase()]);
  });

  it('refuses a replacement when the grant has no live credential, or of a type it does not issue', async () => {
    const connector = issuer();
    const replacement = {
      credentialId: 'nothing.r1',
      type: 'short_lived_token',
      entitlementRef: 'deploy:prod',
      holders: ['owner-2'],
      expiresAt: new Date(now.getTime() + 600_000),
    };
    const op = { grantId: 'nothing', idempotencyKey: 'nothing.r1:rotate' as const, account: 'ci-pipeline', rotation: 1, replacement };
    await expect(connector.rotateCredential(op, new InMemorySecretSink())).rejects.toMatchObject({ code: 'not_found' });
    await expect(connector.rotateCredential({ ...op, replacement: { ...replacement, type: 'database_role' } }, new InMemorySecretSink())).rejects.toMatchObject(
      {
        code: 'invalid_request',
      },
    );
  });

  it('refuses types it does not issue and more than one entitlement', async () => {
    const connector = issuer();
    await expect(connector.issueCredential(request('database_role', 'g-db'), new InMemorySecretSink())).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(
      connector.issueCredential({ ...request('short_lived_token', 'g-two'), entitlementRefs: ['deploy:prod', 'deploy:staging'] }, new InMemorySecretSink()),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('through the runner: the holders of a provision command reach the sink; deprovision erases what was not retrieved', async () => {
    const sink = new InMemorySecretSink();
    const runner = new ConnectorRunner({ connector: issuer(), idempotencyStore: new InMemoryIdempotencyStore(), secretSink: sink, clock });
    const provisioned = await runner.handle({
      grantId: 'grant-run',
      operation: 'provision',
      idempotencyKey: 'grant-run:provision',
      account: 'ci-pipeline',
      entitlementRef: 'deploy:prod',
      expiresAt: new Date(now.getTime() + 900_000),
      credential: { type: 'short_lived_token', ttlSeconds: 3600, holders: ['owner-1', 'ci-pipeline'] },
    });
    expect(provisioned).toMatchObject({ status: 'provisioned', credential: { credentialId: 'grant-run', type: 'short_lived_token' } });
    const ref = provisioned.status === 'provisioned' ? provisioned.credential!.secretRef : '';
    expect(sink.stored(ref)).toMatchObject({ holders: ['owner-1', 'ci-pipeline'], grantId: 'grant-run' });
    await runner.handle({
      grantId: 'grant-run',
      operation: 'deprovision',
      idempotencyKey: 'grant-run:deprovision',
      account: 'ci-pipeline',
      entitlementRef: 'deploy:prod',
    });
    expect(sink.size).toBe(0);
  });
});
