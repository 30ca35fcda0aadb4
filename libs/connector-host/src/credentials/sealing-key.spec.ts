import { SealingKey } from './sealing-key';

describe('SealingKey', () => {
  const key = SealingKey.fromBase64(SealingKey.generateBase64());

  it('seals with AES-256-GCM and opens only with the same key and the same associated data', () => {
    const box = key.seal('s3cret-value', 'credentials/grant-1');
    expect(box.ciphertext).not.toContain('s3cret');
    expect(Buffer.from(box.iv, 'base64')).toHaveLength(12);
    expect(key.unseal(box, 'credentials/grant-1')).toBe('s3cret-value');
    expect(() => key.unseal(box, 'credentials/grant-2')).toThrow(/does not authenticate/);
    const other = SealingKey.fromBase64(SealingKey.generateBase64());
    expect(() => other.unseal(box, 'credentials/grant-1')).toThrow(/sealed under key/);
  });

  it('refuses an altered ciphertext without echoing anything secret', () => {
    const box = key.seal('s3cret-value', 'a');
    const flipped = Buffer.from(box.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => key.unseal({ ...box, ciphertext: flipped.toString('base64') }, 'a')).toThrow(/^the sealed secret does not authenticate/);
  });

  it('refuses a key that is not 32 bytes of base64, naming the variable but never the value', () => {
    for (const bad of ['', 'short', Buffer.alloc(16).toString('base64'), 'not base64 at all!!']) {
      expect(() => SealingKey.fromBase64(bad)).toThrow(/^CREDENTIAL_SEALING_KEY: expected the base64 encoding of 32 random bytes$/);
    }
  });

  it('never prints the key', () => {
    expect(JSON.stringify({ key })).toBe(`{"key":"[sealing key ${key.keyId}]"}`);
    expect(String(key)).toMatch(/^\[sealing key [0-9a-f]{16}\]$/);
  });
});
