export { CredentialIssuerConnector } from './credential-issuer.connector';
export type { CredentialIssuerOptions } from './credential-issuer.connector';
export { InMemoryCredentialLedger } from './credential-ledger.port';
export type { CredentialLedger, LedgerEntry, MintedCredential } from './credential-ledger.port';
export { DEV_KEY_FILES, EC_SIGNING, JWT_ALG, ensureDevIssuerKeys, loadIssuerKeys } from './issuer-keys';
export type { IssuerKeyFiles, IssuerKeys } from './issuer-keys';
export { epochSeconds, mintCertificate, mintToken, newSerial, signCrl, signRevocationList } from './credential-minting';
export type { MintedCertificate, RevocationListEntry, RevokedSerial, TokenClaims } from './credential-minting';
