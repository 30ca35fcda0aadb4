import { generateKeyPairSync } from 'node:crypto';
import { CheckpointFormatError, formatCheckpoint, parseCheckpoint, parseTreeOrigin, treeOrigin } from './checkpoint';
import { SignedNoteError, createNoteSigner, openSignedNote, parseVerifierKey, verifierKey } from './signed-note';

const keys = () => generateKeyPairSync('ed25519');
const NAME = 'audit.grantline.example/log';

describe('C2SP signed note (Ed25519)', () => {
  const { privateKey, publicKey } = keys();
  const signer = createNoteSigner(NAME, privateKey);
  const vkey = verifierKey(NAME, publicKey);
  const body = formatCheckpoint({ origin: 'grantline/c1/iga.requests.v1/0', size: 7, rootHash: Buffer.alloc(32, 9) });

  it('given a body signed by the key, when opened with its verifier key, then the body comes back', () => {
    const note = signer.sign(body);
    expect(note.startsWith(`${body}\n\u2014 ${NAME} `)).toBe(true);
    expect(openSignedNote(note, vkey)).toEqual({ body });
  });

  it('given the verifier key, then its key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)', () => {
    const [name, id, ...rest] = vkey.split('+') as [string, string, ...string[]];
    const key = rest.join('+');
    expect(name).toBe(NAME);
    expect(id).toBe(signer.keyId.toString('hex'));
    expect(Buffer.from(key, 'base64')).toHaveLength(33);
    expect(parseVerifierKey(vkey).keyId.equals(signer.keyId)).toBe(true);
  });

  it('given the reference note of golang.org/x/mod/sumdb/note, then it opens with its verifier key (interoperable)', () => {
    const reference = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(openSignedNote(note, reference)).toEqual({ body: text });
    expect(() => openSignedNote(note.replace('problem,', 'problem;'), reference)).toThrow(/does not verify/);
  });

  it('when the note is signed by another key (even under the same name), then it is refused', () => {
    const other = createNoteSigner(NAME, keys().privateKey);
    expect(() => openSignedNote(other.sign(body), vkey)).toThrow(SignedNoteError);
    expect(() => openSignedNote(other.sign(body), vkey)).toThrow(/no signature by audit\.grantline\.example\/log\+/);
  });

  it('when another key signs too, then its signature is ignored and ours still opens the note', () => {
    const other = createNoteSigner('witness.example/w1', keys().privateKey);
    const note = signer.sign(body);
    const cosigned = `${note}${other.sign(body).split('\n\n')[1]!}`;
    expect(openSignedNote(cosigned, vkey)).toEqual({ body });
  });

  it('when the body is changed, then the note is refused', () => {
    const note = signer.sign(body);
    expect(() => openSignedNote(note.replace('\n7\n', '\n8\n'), vkey)).toThrow(/does not verify/);
  });

  it('when the note is truncated, then it is refused', () => {
    const note = signer.sign(body);
    for (const cut of [note.length - 1, note.length - 10, body.length + 1, body.length, 10]) {
      expect(() => openSignedNote(note.slice(0, cut), vkey)).toThrow(SignedNoteError);
    }
  });

  it('when a signature byte is flipped, then the note is refused', () => {
    const note = signer.sign(body);
    const [text, signatureLine] = note.split('\n\n') as [string, string];
    const encoded = signatureLine.slice(signatureLine.lastIndexOf(' ') + 1, -1);
    const bytes = Buffer.from(encoded, 'base64');
    bytes[10] = bytes[10]! ^ 1;
    expect(() => openSignedNote(`${text}\n\n\u2014 ${NAME} ${bytes.toString('base64')}\n`, vkey)).toThrow(/does not verify/);
  });

  it('given bad keys or names, then they are refused naming the problem', () => {
    expect(() => createNoteSigner('has space', privateKey)).toThrow(/key name/);
    expect(() => createNoteSigner('a+b', privateKey)).toThrow(/key name/);
    expect(() => createNoteSigner(NAME, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(/Ed25519/);
    expect(() => parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(/key id does not match/);
    expect(() => parseVerifierKey('nonsense')).toThrow(/verifier key/);
  });
});

describe('C2SP tlog-checkpoint body and tree origins', () => {
  it('given a checkpoint, then it formats as origin, size, base64 root (and extensions) and parses back', () => {
    const checkpoint = { origin: 'grantline/c1/local/iga.grants.v1/2', size: 20852163, rootHash: Buffer.alloc(32, 1), extensions: ['x: y'] };
    const text = formatCheckpoint(checkpoint);
    expect(text).toBe(`grantline/c1/local/iga.grants.v1/2\n20852163\n${Buffer.alloc(32, 1).toString('base64')}\nx: y\n`);
    expect(parseCheckpoint(text)).toEqual(checkpoint);
  });

  it.each([
    ['no final newline', 'o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['a size with a leading zero', `o\n01\n${Buffer.alloc(32).toString('base64')}\n`],
    ['a short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['two lines', 'o\n1\n'],
    ['an empty extension line', `o\n1\n${Buffer.alloc(32).toString('base64')}\n\n`],
  ])('given a body with %s, then parsing refuses it', (_label, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointFormatError);
  });

  it('given tree coordinates, then the origin names cluster, namespace, topic and partition, and parses back', () => {
    expect(treeOrigin({ clusterId: 'Mk3OEYBSD34fcwNTJENDM2Qk', topic: 'iga.requests.v1', partition: 0 })).toBe(
      'grantline/Mk3OEYBSD34fcwNTJENDM2Qk/iga.requests.v1/0',
    );
    const withNamespace = { clusterId: 'c1', namespace: 'e2e-42', topic: 'iga.grants.v1', partition: 5 };
    expect(parseTreeOrigin(treeOrigin(withNamespace))).toEqual(withNamespace);
    expect(() => treeOrigin({ clusterId: 'c/1', topic: 't', partition: 0 })).toThrow(/clusterId/);
    expect(() => parseTreeOrigin('grantline/c1/t')).toThrow(CheckpointFormatError);
  });
});
