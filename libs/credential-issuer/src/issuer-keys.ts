import { webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { JWK } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** ES256 for JWTs, ECDSA P-256 with SHA-256 for the CA: one curve, supported by every verifier we care about. */
export const JWT_ALG = 'ES256';
export const EC_SIGNING: webcrypto.EcKeyImportParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** The files an issuer's keys are read from (configuration: paths, never inline values). */
export interface IssuerKeyFiles {
  /** Private JWK (ES256) that signs tokens and the revocation list. */
  jwtKeyFile: string;
  /** PKCS#8 PEM of the CA's private key. */
  caKeyFile: string;
  /** PEM of the CA's certificate. */
  caCertFile: string;
}

export interface IssuerKeys {
  jwt: { privateKey: CryptoKey; publicJwk: JWK; kid: string };
  ca: { privateKey: CryptoKey; certificate: X509Certificate };
}

export const DEV_KEY_FILES = { jwtKeyFile: 'jwt-signing.private.jwk.json', caKeyFile: 'ca.private.pem', caCertFile: 'ca.cert.pem' } as const;

/** Reads the issuer's keys; throws naming the file that is missing or unreadable, never printing its content. */
export async function loadIssuerKeys(files: IssuerKeyFiles): Promise<IssuerKeys> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch {
      throw new Error(`cannot read the ${what} at ${path}`);
    }
  };
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(await read(files.jwtKeyFile, 'JWT signing key')) as JWK;
  } catch (error) {
    throw error instanceof SyntaxError ? new Error(`the JWT signing key at ${files.jwtKeyFile} is not JSON`) : error;
  }
  if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || typeof privateJwk.d !== 'string') {
    throw new Error(`the JWT signing key at ${files.jwtKeyFile} must be a private EC P-256 JWK`);
  }
  const jwtPrivateKey = (await importJWK({ ...privateJwk, alg: JWT_ALG }, JWT_ALG)) as CryptoKey;
  const { d: _private, ...publicFields } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicFields));
  const publicJwk: JWK = { kty: publicFields.kty, crv: publicFields.crv, x: publicFields.x, y: publicFields.y, alg: JWT_ALG, use: 'sig', kid };

  const caKeyPem = await read(files.caKeyFile, 'CA private key');
  const caPrivateKey = await webcrypto.subtle.importKey('pkcs8', PemConverter.decodeFirst(caKeyPem), EC_SIGNING, false, ['sign']);
  const certificate = new X509Certificate(await read(files.caCertFile, 'CA certificate'));
  return { jwt: { privateKey: jwtPrivateKey, publicJwk, kid }, ca: { privateKey: caPrivateKey, certificate } };
}

/**
 * Development only: creates the JWT key pair and a self-signed CA in `dir` when absent (npm start, the e2e harness,
 * specs), and returns the files. Production supplies its own files; nothing here runs there.
 */
export async function ensureDevIssuerKeys(dir: string, caName = 'CN=Grantline dev credentials CA'): Promise<IssuerKeyFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: IssuerKeyFiles = {
    jwtKeyFile: join(dir, DEV_KEY_FILES.jwtKeyFile),
    caKeyFile: join(dir, DEV_KEY_FILES.caKeyFile),
    caCertFile: join(dir, DEV_KEY_FILES.caCertFile),
  };
  try {
    await loadIssuerKeys(files);
    return files;
  } catch {
    // absent or partial: generate all of them below
  }
  const jwtPair = await generateKeyPair(JWT_ALG, { extractable: true });
  const privateJwk = await exportJWK(jwtPair.privateKey);
  const { d: _private, ...publicFields } = privateJwk;
  privateJwk.kid = await calculateJwkThumbprint(publicFields);

  const caKeys = (await webcrypto.subtle.generateKey(EC_SIGNING, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = new Date();
  const certificate = await X509CertificateGenerator.createSelfSigned({
    name: caName,
    keys: caKeys,
    signingAlgorithm: EC_SIGNING,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 5 * 365 * 86_400_000),
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature, true),
      await SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caKeyPem = PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', caKeys.privateKey), 'PRIVATE KEY');
  // Written under temporary names and renamed, so a concurrent start never reads half a key.
  const writes: [string, string][] = [
    [files.jwtKeyFile, JSON.stringify(privateJwk)],
    [files.caKeyFile, caKeyPem],
    [files.caCertFile, certificate.toString('pem')],
  ];
  for (const [path, content] of writes) {
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, content, { mode: 0o600 });
    await rename(temporary, path);
  }
  return files;
}
