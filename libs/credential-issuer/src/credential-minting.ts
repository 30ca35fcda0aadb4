import { randomBytes, webcrypto } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
  X509CrlGenerator,
  X509CrlReason,
} from '@peculiar/x509';
import { SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { EC_SIGNING, JWT_ALG } from './issuer-keys';
import type { IssuerKeys } from './issuer-keys';

export interface TokenClaims {
  issuer: string;
  account: string;
  /** The entitlement's external reference: the token's audience and scope. */
  entitlementRef: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** JWT `exp`/`iat` are whole seconds: the grant's expiry rounded down, so the token never outlives the grant. */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export function mintToken(keys: IssuerKeys, claims: TokenClaims): Promise<string> {
  return new SignJWT({ scope: claims.entitlementRef })
    .setProtectedHeader({ alg: JWT_ALG, kid: keys.jwt.kid, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setSubject(claims.account)
    .setAudience(claims.entitlementRef)
    .setIssuedAt(epochSeconds(claims.issuedAt))
    .setExpirationTime(epochSeconds(claims.expiresAt))
    .setJti(claims.jti)
    .sign(keys.jwt.privateKey);
}

export interface RevocationListEntry {
  jti: string;
  /** The token's own `exp` (seconds): a verifier may drop the entry after it. */
  exp: number;
}

/**
 * The revoked tokens not yet expired, as a JWT signed by the same key as the tokens (`typ: revocation-list+jwt`):
 * a verifier checks it against the same JWKS, so a list served by anyone else is refused.
 */
export function signRevocationList(keys: IssuerKeys, issuer: string, entries: readonly RevocationListEntry[], now: Date): Promise<string> {
  const payload: JWTPayload & { revoked: RevocationListEntry[] } = { revoked: [...entries] };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: JWT_ALG, kid: keys.jwt.kid, typ: 'revocation-list+jwt' })
    .setIssuer(issuer)
    .setIssuedAt(epochSeconds(now))
    .sign(keys.jwt.privateKey);
}

export interface MintedCertificate {
  serial: string;
  /** PKCS#8 private key, then the certificate, then the CA certificate: what a workload needs for mTLS. */
  secret: string;
  certificatePem: string;
}

/** A random positive 128-bit serial (RFC 5280: at most 20 octets, positive). */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString('hex');
}

/**
 * A client certificate for a workload: a fresh P-256 key pair, `CN=<account>`, the SPIFFE-style URI SAN
 * `spiffe://grantline/<account>`, clientAuth only, valid from now until exactly the grant's expiry (whole seconds).
 */
export async function mintCertificate(keys: IssuerKeys, account: string, issuedAt: Date, expiresAt: Date): Promise<MintedCertificate> {
  const pair = (await webcrypto.subtle.generateKey(EC_SIGNING, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = newSerial();
  const certificate = await X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{ CN: [account] }],
    issuer: keys.ca.certificate.subject,
    notBefore: new Date(epochSeconds(issuedAt) * 1000),
    notAfter: new Date(epochSeconds(expiresAt) * 1000),
    publicKey: pair.publicKey,
    signingKey: keys.ca.privateKey,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.clientAuth]),
      new SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://grantline/${account}` }]),
      await AuthorityKeyIdentifierExtension.create(keys.ca.certificate.publicKey),
    ],
  });
  const keyPem = PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey), 'PRIVATE KEY');
  const certificatePem = certificate.toString('pem');
  return { serial, certificatePem, secret: `${keyPem}\n${certificatePem}\n${keys.ca.certificate.toString('pem')}\n` };
}

export interface RevokedSerial {
  serial: string;
  revokedAt: Date;
}

/** The CA's CRL of revoked, unexpired certificates (PEM), valid for `validForMs`. */
export async function signCrl(keys: IssuerKeys, revoked: readonly RevokedSerial[], now: Date, validForMs: number): Promise<string> {
  const crl = await X509CrlGenerator.create({
    issuer: keys.ca.certificate.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + validForMs),
    signingAlgorithm: EC_SIGNING,
    signingKey: keys.ca.privateKey,
    entries: revoked.map((entry) => ({ serialNumber: entry.serial, revocationDate: entry.revokedAt, reason: X509CrlReason.cessationOfOperation })),
    extensions: [await AuthorityKeyIdentifierExtension.create(keys.ca.certificate.publicKey)],
  });
  // The label openssl and most verifiers expect (RFC 7468 §5), not the library's "CRL".
  return PemConverter.encode(crl.rawData, 'X509 CRL');
}
