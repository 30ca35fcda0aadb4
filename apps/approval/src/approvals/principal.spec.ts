import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { DEFAULT_AUDIENCE, DEV_ISSUER, devAuth } from './approval.config';
import type { AuthConfig } from './approval.config';
import { principalResolverFor } from './principal';

const ISSUER = 'https://idp.example.test';
const oidc: AuthConfig = { ...devAuth(), mode: 'oidc', issuer: ISSUER, audience: DEFAULT_AUDIENCE };
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('principal resolution', () => {
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let privateJwk: JWK;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), alg: 'ES256', kid: 'k1' };
    privateJwk = { ...(await exportJWK(pair.privateKey)), alg: 'ES256', kid: 'k1' };
  });

  const token = (claims: { iss?: string; aud?: string; sub?: string; expSeconds?: number } = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? DEFAULT_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.expSeconds ?? 300));
    return (claims.sub === '' ? jwt : jwt.setSubject(claims.sub ?? 'bob')).sign(privateKey);
  };
  const resolver = () => principalResolverFor(oidc, createLocalJWKSet({ keys: [publicJwk] }));

  it('takes the approver from a verified token subject', async () => {
    await expect(resolver()({ authorization: `Bearer ${await token()}` })).resolves.toBe('bob');
  });

  it.each([
    ['an expired token', () => token({ expSeconds: -120 }), /expired/],
    ['a wrong audience', () => token({ aud: 'someone-else' }), /aud/],
    ['a wrong issuer', () => token({ iss: 'https://evil.example.test' }), /iss/],
    ['no subject', () => token({ sub: '' }), /sub/],
    ['an unsigned (alg none) token', async () => `${b64({ alg: 'none' })}.${b64({ iss: ISSUER, aud: DEFAULT_AUDIENCE, sub: 'bob', exp: 9e9 })}.`, /algorithm|valid/],
    ['an HS256 token', () => new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(DEFAULT_AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32))), /algorithm/],
  ])('refuses %s', async (_case, make, reason) => {
    await expect(resolver()({ authorization: `Bearer ${await make()}` })).rejects.toThrow(reason);
  });

  it('never trusts the principal header outside dev mode', async () => {
    await expect(resolver()({ principalHeader: 'bob' })).rejects.toThrow(/bearer token is required/);
  });

  it('dev mode: verifies dev-issuer tokens with the key under DEV_ISSUER_DIR, and accepts the header without a token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'approval-dev-issuer-'));
    try {
      writeFileSync(join(dir, 'private.jwk.json'), JSON.stringify(privateJwk));
      const dev = principalResolverFor(devAuth(dir));
      await expect(dev({ authorization: `Bearer ${await token({ iss: DEV_ISSUER, sub: 'carol' })}` })).resolves.toBe('carol');
      await expect(dev({ authorization: `Bearer ${await token()}` })).rejects.toThrow(/iss/);
      await expect(dev({ principalHeader: ' dave ' })).resolves.toBe('dave');
      await expect(dev({ principalHeader: 'two words' })).rejects.toThrow(/identity id/);
      await expect(dev({})).rejects.toThrow(/header/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
