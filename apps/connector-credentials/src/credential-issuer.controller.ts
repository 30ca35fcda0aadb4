import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CONNECTOR } from '@grantline/connector-host';
import type { CredentialIssuerConnector } from '@grantline/credential-issuer';

/**
 * What anyone verifying a Grantline credential needs, public like any JWKS: the token keys, the signed list of
 * revoked tokens, the CA certificate and its CRL. No secret and nothing about who holds what beyond revoked ids.
 */
@Controller()
export class CredentialIssuerController {
  constructor(@Inject(CONNECTOR) private readonly issuer: CredentialIssuerConnector) {}

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): { keys: Record<string, unknown>[] } {
    return this.issuer.jwks();
  }

  /** A JWT (`typ: revocation-list+jwt`) signed by the token key: `{ iss, iat, revoked: [{ jti, exp }] }`. */
  @Get('v1/credentials/revocations')
  @Header('Content-Type', 'application/jwt')
  @Header('Cache-Control', 'no-cache')
  revocations(): Promise<string> {
    return this.issuer.revocationList();
  }

  @Get('v1/credentials/ca.pem')
  @Header('Content-Type', 'application/x-pem-file')
  @Header('Cache-Control', 'public, max-age=300')
  caCertificate(): string {
    return this.issuer.caCertificatePem();
  }

  /** PEM of the CRL signed by the CA: the revoked serials of certificates not yet expired. */
  @Get('v1/credentials/crl')
  @Header('Content-Type', 'application/x-pem-file')
  @Header('Cache-Control', 'no-cache')
  crl(): Promise<string> {
    return this.issuer.crl();
  }
}
