import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 (signature type 0x01).
const ED25519_TYPE = 0x01;
// The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;
const KEY_NAME = /^[^\s+]+$/u;

export class SignedNoteError extends Error {
  override readonly name = 'SignedNoteError';
}

export interface NoteSigner {
  readonly name: string;
  /** The 4-byte C2SP key id. */
  readonly keyId: Buffer;
  /** The whole signed note: the body, a blank line, this key's signature line. */
  sign(body: string): string;
}

function checkKeyName(name: string): void {
  if (typeof name !== 'string' || !KEY_NAME.test(name)) throw new SignedNoteError(`key name: '${String(name)}' must be non-empty, without spaces or '+'`);
}

/** The raw 32 bytes of an Ed25519 public key. */
export function ed25519PublicKeyBytes(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new SignedNoteError(`key: ${String(publicKey.asymmetricKeyType)}, only Ed25519 keys sign notes`);
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(ED25519_SPKI_PREFIX.length);
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4] */
export function noteKeyId(name: string, publicKeyBytes: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_TYPE]))
    .update(publicKeyBytes)
    .digest()
    .subarray(0, 4);
}

function checkBody(body: string): void {
  if (typeof body !== 'string' || !body.endsWith('\n')) throw new SignedNoteError('note text: must end with a newline');
  if (CONTROL.test(body)) throw new SignedNoteError('note text: contains an ASCII control character other than newline');
  if (body.includes('\u2014 ') && body.split('\n').some((line) => line.startsWith(SIGNATURE_PREFIX))) {
    // Not forbidden by the format (the last blank line separates), but a body line that looks like a signature
    // would confuse a human reader of the note; we never sign one.
    throw new SignedNoteError('note text: a line starts like a signature line');
  }
}

/** A signer for notes with an Ed25519 private key. */
export function createNoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  checkKeyName(name);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new SignedNoteError('signer: expected an Ed25519 private key');
  const keyId = noteKeyId(name, ed25519PublicKeyBytes(createPublicKey(privateKey)));
  return {
    name,
    keyId: Buffer.from(keyId),
    sign(body) {
      checkBody(body);
      const signature = sign(null, Buffer.from(body, 'utf8'), privateKey);
      return `${body}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
    },
  };
}

/** The C2SP verifier key: `<name>+<hex key id>+<base64(0x01 || 32-byte public key)>`. */
export function verifierKey(name: string, publicKey: KeyObject): string {
  checkKeyName(name);
  const raw = ed25519PublicKeyBytes(publicKey);
  return `${name}+${noteKeyId(name, raw).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_TYPE]), raw]).toString('base64')}`;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

/** Parses a verifier key; throws naming what is wrong (the key id must match the name and key). */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The key's base64 may itself hold '+': only the first two separate fields (names and ids hold none).
  const parts = typeof vkey === 'string' ? vkey.trim().split('+') : [];
  if (parts.length < 3) throw new SignedNoteError('verifier key: expected <name>+<hex key id>+<base64 key>');
  const [name, idHex] = parts as [string, string];
  const keyText = parts.slice(2).join('+');
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new SignedNoteError('verifier key: the key id must be 8 lowercase hex digits');
  const key = Buffer.from(keyText, 'base64');
  if (key.length !== 33 || key.toString('base64') !== keyText) throw new SignedNoteError('verifier key: the key must be the base64 of 33 bytes');
  if (key[0] !== ED25519_TYPE)
    throw new SignedNoteError(`verifier key: signature type 0x${key[0]!.toString(16).padStart(2, '0')}, only Ed25519 (0x01) is supported`);
  const raw = key.subarray(1);
  const keyId = noteKeyId(name, raw);
  if (keyId.toString('hex') !== idHex) throw new SignedNoteError('verifier key: the key id does not match the name and public key');
  return { name, keyId, publicKey: createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
}

/** Splits a note into its text and signature lines without verifying anything. */
export function splitSignedNote(note: string): { body: string; signatures: { name: string; keyId: Buffer; signature: Buffer }[] } {
  if (typeof note !== 'string' || !note.endsWith('\n')) throw new SignedNoteError('signed note: must end with a newline');
  if (CONTROL.test(note)) throw new SignedNoteError('signed note: contains an ASCII control character other than newline');
  const separator = note.lastIndexOf('\n\n');
  if (separator < 0) throw new SignedNoteError('signed note: no blank line between the text and the signatures');
  const body = note.slice(0, separator + 1);
  const lines = note.slice(separator + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new SignedNoteError(`signed note: more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, index) => {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    const bytes = match === null ? undefined : Buffer.from(match[2]!, 'base64');
    if (match === null || bytes === undefined || bytes.length < 5 || bytes.toString('base64') !== match[2]) {
      throw new SignedNoteError(`signed note: signature line ${index + 1} is not '— <name> <base64(key id || signature)>'`);
    }
    return { name: match[1]!, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { body, signatures };
}

/**
 * Opens a signed note with one trusted key: returns its text when a signature by that key (same name and key id)
 * verifies; throws when there is none or when one by that key fails (the whole note is refused). Signatures by other
 * keys are ignored, as the spec requires.
 */
export function openSignedNote(note: string, vkey: string | NoteVerifier): { body: string } {
  const verifier = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  const { body, signatures } = splitSignedNote(note);
  const data = Buffer.from(body, 'utf8');
  let verified = false;
  for (const candidate of signatures) {
    if (candidate.name !== verifier.name || !candidate.keyId.equals(verifier.keyId)) continue;
    if (candidate.signature.length !== 64 || !verify(null, data, verifier.publicKey, candidate.signature)) {
      throw new SignedNoteError(`signed note: the signature by ${verifier.name} does not verify`);
    }
    verified = true;
  }
  if (!verified) throw new SignedNoteError(`signed note: no signature by ${verifier.name}+${verifier.keyId.toString('hex')}`);
  return { body };
}
