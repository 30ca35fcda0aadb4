// The sealed vault on the MongoDB-wire store of jest's global setup (FerretDB locally): one database for this spec.
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { mongoDatabaseUrl, uniqueName } from '@grantline/testing';
import { SEALED_SECRETS_COLLECTION, SealedSecretVault } from './sealed-secret.vault';
import { SealingKey } from './sealing-key';

describe('SealedSecretVault on MongoDB', () => {
  let connection: Connection;
  let now = new Date('2030-01-01T00:00:00.000Z');
  const key = SealingKey.fromBase64(SealingKey.generateBase64());
  let vault: SealedSecretVault;
  const secretOf = (id: string) => `secret-of-${id}-${'x'.repeat(24)}`;
  const put = (credentialId: string, expiresAt = new Date(now.getTime() + 60_000)) =>
    vault.put({
      connectorId: 'credentials',
      credentialId,
      type: 'short_lived_token',
      grantId: credentialId,
      holders: ['owner-1', 'bot-1'],
      secret: secretOf(credentialId),
      expiresAt,
    });

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoDatabaseUrl(uniqueName('sealed_vault')), { serverSelectionTimeoutMS: 10_000 }).asPromise();
    vault = new SealedSecretVault(connection, 'credentials', key, () => now);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('stores only ciphertext, bound to the record, with holders, type, grant and expiry', async () => {
    await expect(put('c-1')).resolves.toBe('sealed://credentials/c-1');
    const raw = await connection.collection(SEALED_SECRETS_COLLECTION).findOne({ _id: 'credentials/c-1' as never });
    expect(JSON.stringify(raw)).not.toContain(secretOf('c-1'));
    expect(raw).toMatchObject({ state: 'sealed', holders: ['owner-1', 'bot-1'], type: 'short_lived_token', grantId: 'c-1', sealed: { keyId: key.keyId } });
  });

  it('hands the secret to a holder once and erases the ciphertext; the next retrieval is gone, a stranger unknown', async () => {
    await put('c-2');
    await expect(vault.retrieve('c-2', 'mallory')).resolves.toMatchObject({ status: 'unknown' });
    await expect(vault.retrieve('c-2', 'bot-1')).resolves.toEqual({
      status: 'handed_over',
      credentialId: 'c-2',
      type: 'short_lived_token',
      secret: secretOf('c-2'),
      expiresAt: new Date(now.getTime() + 60_000),
    });
    await expect(vault.describe('c-2')).resolves.toMatchObject({ state: 'retrieved', retrievedBy: 'bot-1', hasCiphertext: false });
    await expect(vault.retrieve('c-2', 'owner-1')).resolves.toEqual({ status: 'gone', reason: 'retrieved' });
    await expect(vault.retrieve('c-2', 'mallory')).resolves.toMatchObject({ status: 'unknown' });
    await expect(vault.retrieve('nope', 'owner-1')).resolves.toMatchObject({ status: 'unknown' });
  });

  it('lets exactly one of concurrent retrievals win', async () => {
    await put('c-3');
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => vault.retrieve('c-3', i % 2 ? 'owner-1' : 'bot-1')));
    expect(outcomes.filter((o) => o.status === 'handed_over')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'gone')).toHaveLength(5);
  });

  it('erases an unretrieved secret at its expiry: a retrieval after it is gone', async () => {
    await put('c-4', new Date(now.getTime() + 1_000));
    now = new Date(now.getTime() + 2_000);
    await expect(vault.retrieve('c-4', 'owner-1')).resolves.toEqual({ status: 'gone', reason: 'expired' });
    await expect(vault.describe('c-4')).resolves.toMatchObject({ state: 'expired', hasCiphertext: false });
    await put('c-5', new Date(now.getTime() + 1_000));
    now = new Date(now.getTime() + 2_000);
    await expect(vault.eraseExpired()).resolves.toBe(1);
    await expect(vault.describe('c-5')).resolves.toMatchObject({ state: 'expired', hasCiphertext: false });
  });

  it('discards an unretrieved secret when its grant ends (idempotent), and never re-opens a closed one', async () => {
    await put('c-6');
    await vault.discard('c-6');
    await vault.discard('c-6');
    await expect(vault.describe('c-6')).resolves.toMatchObject({ state: 'discarded', hasCiphertext: false });
    await expect(vault.retrieve('c-6', 'owner-1')).resolves.toEqual({ status: 'gone', reason: 'discarded' });
    await expect(put('c-6')).rejects.toMatchObject({ code: 'conflict' });
    await expect(put('c-2')).rejects.toMatchObject({ code: 'conflict' });
  });

  it("discards every unretrieved secret of a grant, its rotations' included, and leaves other grants' alone", async () => {
    await put('g-9');
    await vault.put({
      connectorId: 'credentials',
      credentialId: 'g-9.r1',
      type: 'short_lived_token',
      grantId: 'g-9',
      holders: ['owner-2', 'bot-1'],
      secret: secretOf('g-9.r1'),
      expiresAt: new Date(now.getTime() + 60_000),
    });
    await put('g-10');
    await vault.discardGrant('g-9');
    await vault.discardGrant('g-9');
    await expect(vault.describe('g-9')).resolves.toMatchObject({ state: 'discarded', hasCiphertext: false });
    await expect(vault.describe('g-9.r1')).resolves.toMatchObject({ state: 'discarded', hasCiphertext: false });
    await expect(vault.retrieve('g-9.r1', 'owner-2')).resolves.toEqual({ status: 'gone', reason: 'discarded' });
    await expect(vault.describe('g-10')).resolves.toMatchObject({ state: 'sealed', hasCiphertext: true });
  });

  it("replaces a still-sealed secret on a retried put, and refuses another connector's secret", async () => {
    await put('c-7');
    await put('c-7');
    await expect(vault.retrieve('c-7', 'owner-1')).resolves.toMatchObject({ status: 'handed_over', secret: secretOf('c-7') });
    await expect(
      vault.put({ connectorId: 'postgres', credentialId: 'c-8', type: 'database_role', grantId: 'g', holders: [], secret: 's', expiresAt: now }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
