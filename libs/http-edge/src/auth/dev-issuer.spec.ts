import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIENCE } from './bearer-auth.config';
import { devJwks, ensureDevIssuerKey, mintDevToken, parseTtl } from './dev-issuer';
import { DEV_ISSUER, DEV_ISSUER_KEY_FILE } from './dev-issuer.keys';
import { JwtVerifier } from './jwt-verifier';

describe('dev issuer', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'dev-issuer-')), 'keys');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('given no key yet, when several processes ask at once, then one key pair is created, private to its owner, and every caller gets it', async () => {
    const keys = await Promise.all([ensureDevIssuerKey(dir), ensureDevIssuerKey(dir), ensureDevIssuerKey(dir)]);
    expect(new Set(keys.map((key) => key.privateJwk.kid)).size).toBe(1);
    expect(statSync(join(dir, DEV_ISSUER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await ensureDevIssuerKey(dir)).privateJwk.kid).toBe(keys[0]!.privateJwk.kid);
    expect(devJwks(keys[0]!).keys[0]).not.toHaveProperty('d');
  });

  it('given a minted token, then a verifier with the public JWKS accepts it with the subject, and rejects it once expired', async () => {
    const key = await ensureDevIssuerKey(dir);
    const verifier = JwtVerifier.fromJwks(devJwks(key), { issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE });
    const token = await mintDevToken(key, { subject: 'alice', audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 60 });
    expect(await verifier.verify(token)).toMatchObject({ subject: 'alice' });
    const stale = await mintDevToken(key, {
      subject: 'alice',
      audience: DEFAULT_AUDIENCE,
      issuer: DEV_ISSUER,
      ttlSeconds: 60,
      now: new Date(Date.now() - 3_600_000),
    });
    await expect(verifier.verify(stale)).rejects.toThrow();
  });

  it.each([
    ['1h', 3_600],
    ['30m', 1_800],
    ['45', 45],
    ['2d', 172_800],
    ['0', undefined],
    ['1w', undefined],
    ['-5s', undefined],
  ])('parses the ttl %p as %p seconds', (ttl, seconds) => {
    expect(parseTtl(ttl)).toBe(seconds);
  });
});
