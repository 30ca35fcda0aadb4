import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { scramSha256Verifier } from './scram-verifier';

describe('scramSha256Verifier', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

  it('produces the verifier format PostgreSQL stores', () => {
    const verifier = scramSha256Verifier('pencil', { salt, iterations: 4096 });
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });

  it('yields keys that validate the RFC 7677 example exchange', () => {
    // RFC 7677 section 3: user "user", password "pencil"; the server signature there is
    // HMAC(ServerKey, AuthMessage), so matching it proves ServerKey (and the salted password).
    const authMessage =
      'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const [, keys = ''] = scramSha256Verifier('pencil', { salt, iterations: 4096 }).split('$').slice(1);
    const [storedKey = '', serverKey = ''] = keys.split(':');
    const serverSignature = createHmac('sha256', Buffer.from(serverKey, 'base64')).update(authMessage).digest('base64');
    expect(serverSignature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');

    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(storedKey).toBe(createHash('sha256').update(clientKey).digest('base64'));
  });

  it('salts every call differently by default', () => {
    expect(scramSha256Verifier('same-password')).not.toBe(scramSha256Verifier('same-password'));
  });

  it('refuses passwords that would need SASLprep', () => {
    expect(() => scramSha256Verifier('pass word')).toThrow(RangeError);
  });
});
