import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifierKey } from '@grantline/transparency';
import { exportUsageError, readVerifierKey } from './export-command';

describe('grantline export: its command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-usage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const valid = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00+01:00', out: '/tmp/bundle', key: 'verifier.vkey' };

  it.each([
    [{ ...valid, from: '2026-01-01' }, '--from: an ISO-8601 instant with a time zone'],
    [{ ...valid, to: 'yesterday' }, '--to: an ISO-8601 instant with a time zone'],
    [{ ...valid, from: '2026-03-01T00:00:00Z' }, '--from: must not be after --to'],
    [{ ...valid, out: '' }, '--out: the directory'],
    [{ ...valid, key: '' }, '--key: the verifier key'],
  ])('refuses %j naming the option', (options, message) => {
    expect(exportUsageError(options)).toContain(message);
  });

  it('accepts a valid command line', () => {
    expect(exportUsageError(valid)).toBeUndefined();
  });

  it('reads the verifier key from a vkey (whose base64 may hold "+"), a public PEM or the private PEM', () => {
    // A key whose base64 holds a '+' (about every other key does): a vkey is not split on every '+'.
    let pair = generateKeyPairSync('ed25519');
    while (!verifierKey('grantline-audit-2027', pair.publicKey).split('+').slice(2).join('+').includes('+')) pair = generateKeyPairSync('ed25519');
    const { privateKey, publicKey } = pair;
    const vkey = verifierKey('grantline-audit-2027', publicKey);
    writeFileSync(join(dir, 'k.vkey'), `${vkey}\n`);
    writeFileSync(join(dir, 'k.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'private.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const fromVkey = readVerifierKey(join(dir, 'k.vkey'), undefined);
    expect(fromVkey.keyName).toBe('grantline-audit-2027');
    expect(verifierKey(fromVkey.keyName, fromVkey.publicKey)).toBe(vkey);
    expect(verifierKey('grantline-audit-2027', readVerifierKey(join(dir, 'k.pem'), 'grantline-audit-2027').publicKey)).toBe(vkey);
    expect(readVerifierKey(join(dir, 'private.pem'), undefined)).toMatchObject({ keyName: 'grantline-audit' });
    expect(() => readVerifierKey(join(dir, 'k.vkey'), 'another')).toThrow('--key-name another: the vkey names grantline-audit-2027');
    writeFileSync(join(dir, 'ec.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }));
    expect(() => readVerifierKey(join(dir, 'ec.pem'), undefined)).toThrow(/a ec key; checkpoints are signed with Ed25519/);
  });
});
