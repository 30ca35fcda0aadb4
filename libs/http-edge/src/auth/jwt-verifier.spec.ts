import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { AuthenticationError, JwtVerifier } from './jwt-verifier';

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'grantline';
const NOW = new Date('2025-06-02T10:00:00Z');
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

describe('JwtVerifier', () => {
  let signingKey: CryptoKey;
  let otherKey: CryptoKey;
  let verifier: JwtVerifier;

  const sign = (claims: { iss?: string; aud?: string; sub?: string; exp?: number }, key: CryptoKey = signingKey, alg = 'ES256'): Promise<string> => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg, kid: 'k1' }).setIssuedAt(seconds(NOW));
    if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
    if (claims.aud !== undefined) jwt.setAudience(claims.aud);
    if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    jwt.setExpirationTime(claims.exp ?? seconds(NOW) + 3600);
    return jwt.sign(key);
  };
  const good = { iss: ISSUER, aud: AUDIENCE, sub: 'alice' };
  const reasonOf = async (token: string): Promise<string> =>
    verifier.verify(token).then(
      () => 'accepted',
      (error: unknown) => (error instanceof AuthenticationError ? error.reason : `unexpected ${String(error)}`),
    );

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    verifier = JwtVerifier.fromJwks({ keys: [publicJwk] }, { issuer: ISSUER, audience: AUDIENCE, now: () => NOW, clockToleranceSeconds: 5 });
  });

  it('accepts a valid token and takes the actor from its subject', async () => {
    const principal = await verifier.verify(await sign(good));
    expect(principal.subject).toBe('alice');
  });

  it('rejects an unsigned token (alg none)', async () => {
    const unsigned = new UnsecuredJWT({})
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setExpirationTime(seconds(NOW) + 3600)
      .encode();
    expect(await reasonOf(unsigned)).toBe('unsupported_algorithm');
  });

  it('rejects an expired token', async () => {
    expect(await reasonOf(await sign({ ...good, exp: seconds(NOW) - 60 }))).toBe('expired');
  });

  it('rejects a token for another audience', async () => {
    expect(await reasonOf(await sign({ ...good, aud: 'someone-else' }))).toBe('wrong_audience');
  });

  it('rejects a token from another issuer', async () => {
    expect(await reasonOf(await sign({ ...good, iss: 'https://evil.example' }))).toBe('wrong_issuer');
  });

  it('rejects a token signed by a key not in the JWKS', async () => {
    expect(await reasonOf(await sign(good, otherKey))).toBe('bad_signature');
  });

  it('rejects a shared-secret (HS256) token even when it names a known kid', async () => {
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setExpirationTime(seconds(NOW) + 3600)
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!!'));
    expect(await reasonOf(hmac)).toBe('unsupported_algorithm');
  });

  it('rejects a token without a subject, and garbage', async () => {
    expect(await reasonOf(await sign({ iss: ISSUER, aud: AUDIENCE }))).toBe('malformed');
    expect(await reasonOf('not.a.jwt')).toBe('malformed');
    expect(await reasonOf('')).toBe('missing');
  });
});
